package sqlstore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/luma-db/luma/internal/jsonx"
)

// Result is the outcome of Query. Columns holds the result column names in
// statement order, duplicates included. Each row has one value per column,
// typed by SQLite storage class:
//
//	NULL    nil
//	INTEGER int64
//	REAL    float64 (NaN and ±Inf become nil, as JSON has no such numbers)
//	TEXT    string
//	BLOB    string: standard base64 without padding
type Result struct {
	Columns []string
	Rows    [][]any
}

// Objects returns the rows as JSON objects in column order, the contract's
// `rows: [{column: value}]`. When two columns share a name (SELECT a.id,
// b.id), the object has that key once, at its first position, holding the
// last column's value — what the original server did. Columns keeps every
// name, so a client that needs both can alias them.
func (r *Result) Objects() []Object {
	keys := r.keys()
	out := make([]Object, len(r.Rows))
	for i, row := range r.Rows {
		out[i] = Object{cols: r.Columns, keys: keys, vals: row}
	}
	return out
}

// keys returns, for each distinct column name in first-seen order, the
// index of the column that supplies its value (the last one of that name).
func (r *Result) keys() []int {
	var keys []int
	pos := make(map[string]int, len(r.Columns))
	for i, c := range r.Columns {
		if k, ok := pos[c]; ok {
			keys[k] = i
			continue
		}
		pos[c] = len(keys)
		keys = append(keys, i)
	}
	return keys
}

// Object is one row as a JSON object with keys in column order.
type Object struct {
	cols []string
	keys []int // column index per distinct name, in first-seen order
	vals []any
}

// Get returns the value of the named column (the last one with that name).
func (o Object) Get(name string) (any, bool) {
	for _, k := range o.keys {
		if o.cols[k] == name {
			return o.vals[k], true
		}
	}
	return nil, false
}

// MarshalJSON writes the object with keys in column order. REAL values keep a
// fraction or exponent (1.0, not 1) so that clients decoding JSON into
// dynamic types see a float where SQLite had one.
func (o Object) MarshalJSON() ([]byte, error) {
	names := make([][]byte, len(o.keys))
	for n, k := range o.keys {
		names[n] = jsonx.AppendString(nil, o.cols[k])
	}
	return appendObject(nil, names, o.keys, o.vals), nil
}

// AppendRows appends the rows as the JSON array of objects that
// json.Marshal(r.Objects()) writes, without building the objects: the
// column names are encoded once for all rows.
func (r *Result) AppendRows(b []byte) []byte {
	if len(r.Rows) == 0 {
		return append(b, "[]"...)
	}
	keys := r.keys()
	names := make([][]byte, len(keys))
	for n, k := range keys {
		names[n] = jsonx.AppendString(nil, r.Columns[k])
	}
	b = append(b, '[')
	for i, row := range r.Rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendObject(b, names, keys, row)
	}
	return append(b, ']')
}

// appendObject appends one row: names[n] is the encoded name of column
// keys[n].
func appendObject(b []byte, names [][]byte, keys []int, vals []any) []byte {
	b = append(b, '{')
	for n, k := range keys {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, names[n]...)
		b = append(b, ':')
		b = appendValue(b, vals[k])
	}
	return append(b, '}')
}

func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return appendFloat(b, x)
	case string:
		return jsonx.AppendString(b, x)
	}
	// columnValue produces only the types above.
	enc, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, enc...)
}

// appendFloat formats f as a JSON number that always reads back as a float:
// plain decimal notation for 1e-6 <= |f| < 1e21, exponent notation outside
// that range, ".0" appended to integral values.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		return dst
	}
	if !bytes.ContainsAny(dst[start:], ".e") {
		dst = append(dst, ".0"...)
	}
	return dst
}

// columnValue converts a value the driver produced to the store's types.
// decl is the column's declared type (upper case).
func columnValue(v any, decl string) any {
	switch x := v.(type) {
	case nil, int64, string:
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case []byte:
		return base64.RawStdEncoding.EncodeToString(x)
	case time.Time:
		return formatTime(x, decl)
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	}
	// The driver produces only the types above; keep anything else visible
	// rather than dropping it.
	b, _ := json.Marshal(v)
	return string(b)
}

// formatTime turns back into text a TEXT value that the driver parsed as a
// time because its column was declared DATE, DATETIME or TIMESTAMP (the
// driver has no switch for that). The layout is SQLite's own: what date(),
// datetime(), CURRENT_TIMESTAMP and strftime('%Y-%m-%d %H:%M:%f') produce
// comes back byte for byte; other spellings come back in this form (see
// docs/DATA_MODELS.md).
func formatTime(t time.Time, decl string) string {
	_, offset := t.Zone()
	clock := t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
	if decl == "DATE" && clock && offset == 0 {
		return t.Format("2006-01-02")
	}
	layout := "2006-01-02 15:04:05"
	switch ns := t.Nanosecond(); {
	case ns == 0:
	case ns%int(time.Millisecond) == 0:
		layout += ".000"
	default:
		layout += ".999999999"
	}
	if offset != 0 {
		layout += "-07:00"
	}
	return t.Format(layout)
}
