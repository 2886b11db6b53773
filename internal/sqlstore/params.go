package sqlstore

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Params are the values bound to a statement's placeholders: a positional
// list (bound to ?, ?NNN and, by index, to named placeholders) or a set of
// named values (bound to :name, @name and $name). The zero value binds
// nothing.
//
// Accepted values: nil (NULL), bool (INTEGER 1/0), int, int64 (INTEGER),
// float64 (REAL), json.Number (INTEGER when integral and in int64 range, else
// REAL), string (TEXT) and []byte (BLOB). Anything else is an error when the
// statement runs.
type Params struct {
	positional []any
	named      map[string]any // keys without their :, @ or $ prefix
	isNamed    bool
}

// Positional returns positional parameters.
func Positional(values ...any) Params { return Params{positional: values} }

// Named returns named parameters. A key may carry its placeholder prefix
// (":id", "@id", "$id") or not ("id"); it binds every placeholder of that
// name whatever its prefix.
func Named(values map[string]any) (Params, error) {
	p := Params{named: make(map[string]any, len(values)), isNamed: true}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		name := stripPrefix(k)
		if name == "" {
			return Params{}, paramErrorf("empty parameter name %q", k)
		}
		if _, dup := p.named[name]; dup {
			return Params{}, paramErrorf("parameter %q is given twice (with and without its prefix)", name)
		}
		p.named[name] = values[k]
	}
	return p, nil
}

// Len returns the number of values.
func (p Params) Len() int {
	if p.isNamed {
		return len(p.named)
	}
	return len(p.positional)
}

// DecodeParams decodes the JSON "params" member of a request: absent (empty
// input) or null → no parameters; an array → positional (the contract); an
// object → named (an extension). Numbers keep their exact text until bound,
// so integers beyond 2^53 stay exact. Nested arrays or objects as values are
// rejected here already, as the contract's sqlite_error.
func DecodeParams(raw []byte) (Params, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return Params{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return Params{}, paramErrorf("params: invalid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Params{}, paramErrorf("params: unexpected data after the JSON value")
	}
	switch x := v.(type) {
	case nil:
		return Params{}, nil
	case []any:
		for i, e := range x {
			if _, err := normValue(e); err != nil {
				return Params{}, paramErrorf("params[%d]: %v", i, err)
			}
		}
		return Positional(x...), nil
	case map[string]any:
		for k, e := range x {
			if _, err := normValue(e); err != nil {
				return Params{}, paramErrorf("params[%q]: %v", k, err)
			}
		}
		return Named(x)
	default:
		return Params{}, paramErrorf("params must be an array (positional) or an object (named), not %s", jsonKind(v))
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

var errUnsupportedType = errors.New("unsupported parameter type (only null, bool, number, string)")

// normValue converts a parameter value to what the driver binds.
func normValue(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		return x, nil
	case string:
		return x, nil
	case []byte:
		return x, nil
	case json.Number:
		return numberValue(string(x))
	}
	return nil, errUnsupportedType
}

// numberValue types a JSON number the way the original server did: an
// integer literal that fits int64 is INTEGER, anything else REAL.
func numberValue(s string) (any, error) {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %s is out of range", s)
	}
	return f, nil
}

func stripPrefix(name string) string {
	if name != "" && (name[0] == ':' || name[0] == '@' || name[0] == '$') {
		return name[1:]
	}
	return name
}

// isNamedSlot reports whether a placeholder is a name the driver binds by
// name. $NNN is bound by number (the driver's Postgres-style reading).
func isNamedSlot(slot string) bool {
	if len(slot) < 2 {
		return false
	}
	switch slot[0] {
	case ':', '@':
		return true
	case '$':
		return !isDigit(slot[1])
	}
	return false
}

// validDriverName reports whether database/sql accepts name in sql.Named.
func validDriverName(name string) bool {
	for i, r := range name {
		if i == 0 && !unicode.IsLetter(r) {
			return false
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
			return false
		}
	}
	return name != ""
}

// bindArgs matches p to the placeholders of st and returns the arguments for
// database/sql. Every mismatch is a *SQLiteError with code 0: a wrong count,
// a missing or unknown name, an unsupported value.
func bindArgs(st statement, p Params) ([]any, error) {
	slots := st.params
	if !p.isNamed {
		if len(p.positional) != len(slots) {
			return nil, paramErrorf("statement has %d parameter(s) but %d value(s) were given", len(slots), len(p.positional))
		}
		args := make([]any, len(slots))
		seen := make(map[string]string)
		for i, slot := range slots {
			v, err := normValue(p.positional[i])
			if err != nil {
				return nil, paramErrorf("params[%d]: %v", i, err)
			}
			if !isNamedSlot(slot) {
				args[i] = v
				continue
			}
			name := slot[1:]
			if !validDriverName(name) {
				return nil, paramErrorf("parameter name %q is not supported: start it with a letter and use letters, digits and _", slot)
			}
			if other, dup := seen[name]; dup {
				return nil, paramErrorf("parameters %s and %s share a name; use one prefix", other, slot)
			}
			seen[name] = slot
			args[i] = sql.Named(name, v)
		}
		return args, nil
	}

	var (
		args []any
		used = make(map[string]bool)
	)
	for _, slot := range slots {
		if !isNamedSlot(slot) {
			return nil, paramErrorf("statement uses positional parameters (?, ?NNN or $NNN); send params as an array")
		}
		name := slot[1:]
		if used[name] {
			continue
		}
		if !validDriverName(name) {
			return nil, paramErrorf("parameter name %q is not supported: start it with a letter and use letters, digits and _", slot)
		}
		raw, ok := p.named[name]
		if !ok {
			return nil, paramErrorf("missing value for parameter %s", slot)
		}
		v, err := normValue(raw)
		if err != nil {
			return nil, paramErrorf("params[%q]: %v", name, err)
		}
		used[name] = true
		args = append(args, sql.Named(name, v))
	}
	if len(used) != len(p.named) {
		var unknown []string
		for k := range p.named {
			if !used[k] {
				unknown = append(unknown, k)
			}
		}
		slices.Sort(unknown)
		return nil, paramErrorf("unknown parameter(s) %s: the statement has %d named parameter(s)", strings.Join(unknown, ", "), len(used))
	}
	return args, nil
}
