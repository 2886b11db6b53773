package filter

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel causes carried by some *Error values; test with errors.Is.
var (
	// ErrInvalidJSON: the filter text is not one JSON value.
	ErrInvalidJSON = errors.New("invalid JSON")
	// ErrTooDeep: the filter nests deeper than Options.MaxDepth.
	ErrTooDeep = errors.New("filter nested too deeply")
	// ErrTooManyClauses: the filter has more clauses than Options.MaxClauses.
	ErrTooManyClauses = errors.New("too many clauses")
)

// Error is the error Parse and ParseValue return for every rejected filter.
// It names where the problem is and what would be accepted, for example
//
//	filter: field "price": $gt needs a number or string, got array
//
// Field is the field path the problem is about; it is "" when the problem is
// not inside a field (a bad $and, say) and for the rare field named "". Op is
// the operator involved ("" for structural problems). Msg is the rest of the
// sentence. Err, when set, is one of the package's sentinel errors and is
// returned by Unwrap.
type Error struct {
	Field string
	Op    string
	Msg   string
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("filter: ")
	if e.Field != "" {
		b.WriteString("field ")
		b.WriteString(strconv.Quote(e.Field))
		b.WriteString(": ")
	}
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteByte(' ')
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the sentinel cause, if any.
func (e *Error) Unwrap() error { return e.Err }
