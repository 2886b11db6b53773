package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Error codes of the wire contract (CONTRACT.md §2) and Luma's additions.
const (
	CodeInvalidArgument      = "invalid_argument"
	CodeDimMismatch          = "dim_mismatch"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeUnauthorized         = "unauthorized"
	CodeForbidden            = "forbidden"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeTimeout              = "timeout"
	CodeRevisionMismatch     = "revision_mismatch"
	CodeAlreadyExists        = "already_exists"
	CodePayloadTooLarge      = "payload_too_large"
	CodeNotEnabled           = "not_enabled"
	CodeSQLiteError          = "sqlite_error"
	CodeNotSupported         = "not_supported"
	CodePersistenceError     = "persistence_error"
	CodeInternal             = "internal"
	CodeInternalError        = "internal_error"
	CodeUnavailable          = "unavailable"
)

// Sentinel errors. A *Error matches the sentinel of its code with errors.Is
// (and the class sentinels ErrConflict, ErrServer by status).
var (
	ErrInvalidArgument  = errors.New("luma: invalid argument")
	ErrDimMismatch      = errors.New("luma: vector dimension mismatch")
	ErrUnsupportedMedia = errors.New("luma: unsupported media type")
	ErrUnauthorized     = errors.New("luma: unauthorized")
	ErrForbidden        = errors.New("luma: forbidden")
	ErrNotFound         = errors.New("luma: not found")
	ErrMethodNotAllowed = errors.New("luma: method not allowed")
	ErrTimeout          = errors.New("luma: request timeout")
	ErrConflict         = errors.New("luma: conflict")
	ErrRevisionMismatch = errors.New("luma: revision mismatch")
	ErrAlreadyExists    = errors.New("luma: already exists")
	ErrPayloadTooLarge  = errors.New("luma: payload too large")
	ErrNotEnabled       = errors.New("luma: module not enabled")
	ErrSQLite           = errors.New("luma: sqlite error")
	ErrNotSupported     = errors.New("luma: not supported")
	ErrServer           = errors.New("luma: server error")
	ErrPersistence      = errors.New("luma: persistence error")
	ErrUnavailable      = errors.New("luma: server unavailable")
)

var codeSentinels = map[string]error{
	CodeInvalidArgument:      ErrInvalidArgument,
	CodeDimMismatch:          ErrDimMismatch,
	CodeUnsupportedMediaType: ErrUnsupportedMedia,
	CodeUnauthorized:         ErrUnauthorized,
	CodeForbidden:            ErrForbidden,
	CodeNotFound:             ErrNotFound,
	CodeMethodNotAllowed:     ErrMethodNotAllowed,
	CodeTimeout:              ErrTimeout,
	CodeRevisionMismatch:     ErrRevisionMismatch,
	CodeAlreadyExists:        ErrAlreadyExists,
	CodePayloadTooLarge:      ErrPayloadTooLarge,
	CodeNotEnabled:           ErrNotEnabled,
	CodeSQLiteError:          ErrSQLite,
	CodeNotSupported:         ErrNotSupported,
	CodePersistenceError:     ErrPersistence,
	CodeUnavailable:          ErrUnavailable,
}

// Error is an error answer of the server: the body {"error": Code,
// "message": Message} and the HTTP Status.
type Error struct {
	Status    int
	Code      string
	Message   string
	RequestID string
	// Results holds the per-item results a failed atomic batch sends
	// beside the error (state batch_put), else nil.
	Results json.RawMessage
}

// Error returns "<code> - <message>", the original SDK's format.
func (e *Error) Error() string { return e.Code + " - " + e.Message }

// Is reports whether target is the sentinel for e's code, or a class
// sentinel that covers it (ErrConflict for 409, ErrServer for 5xx,
// ErrInvalidArgument for dim_mismatch).
func (e *Error) Is(target error) bool {
	if s, ok := codeSentinels[e.Code]; ok && s == target {
		return true
	}
	switch target {
	case ErrConflict:
		return e.Status == 409
	case ErrServer:
		return e.Status >= 500
	case ErrInvalidArgument:
		return e.Code == CodeDimMismatch
	}
	return false
}

// IsNoRoute reports whether err says the server has no route for the
// request (an older server without that module).
func IsNoRoute(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == 404 && e.Code == CodeNotFound && strings.HasPrefix(e.Message, "no route")
}

// parseError builds the *Error of an answer with status >= 400.
func parseError(status int, contentType string, body []byte, requestID string) *Error {
	e := &Error{Status: status, RequestID: requestID}
	if strings.HasPrefix(strings.ToLower(contentType), "application/json") {
		var b struct {
			Error   string          `json:"error"`
			Message string          `json:"message"`
			Results json.RawMessage `json:"results"`
		}
		if json.Unmarshal(body, &b) == nil && b.Error != "" {
			e.Code, e.Message, e.Results = b.Error, b.Message, b.Results
			return e
		}
	}
	e.Code = fmt.Sprintf("http_%d", status)
	e.Message = strings.TrimSpace(string(body))
	if e.Message == "" {
		e.Message = fmt.Sprintf("HTTP %d", status)
	}
	return e
}
