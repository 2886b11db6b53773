package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/luma-db/luma/internal/auth"
	"github.com/luma-db/luma/internal/state"
	"github.com/luma-db/luma/internal/storage"
)

// Error codes of the wire contract (CONTRACT.md §2) and Luma's additions.
// Every error body is {"error": <code>, "message": <text>}.
const (
	codeUnauthorized     = "unauthorized"
	codeForbidden        = "forbidden"
	codeInvalidArgument  = "invalid_argument"
	codePayloadTooLarge  = "payload_too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeRevisionMismatch = "revision_mismatch"
	codeAlreadyExists    = "already_exists"
	codeDimMismatch      = "dim_mismatch"
	codeNotEnabled       = "not_enabled"
	codeSQLiteError      = "sqlite_error"
	codePersistence      = "persistence_error"
	codeInternal         = "internal"
	codeInternalError    = "internal_error"
	codeNotSupported     = "not_supported"
	codeTimeout          = "timeout"
	codeUnavailable      = "unavailable"
)

// apiError is an error with its wire form. Handlers return it (or a domain
// error that toAPIError maps) and the route wrapper writes it.
type apiError struct {
	Status  int
	Code    string
	Message string
	// Results, when set, is sent beside error and message (atomic batches
	// report each item).
	Results any
	// Allow is set on 405 answers.
	Allow string
	cause error
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }
func (e *apiError) Unwrap() error { return e.cause }

func newError(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

func errInvalid(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, codeInvalidArgument, fmt.Sprintf(format, args...))
}

func errUnprocessable(format string, args ...any) *apiError {
	return newError(http.StatusUnprocessableEntity, codeInvalidArgument, fmt.Sprintf(format, args...))
}

func errNotFound(msg string) *apiError { return newError(http.StatusNotFound, codeNotFound, msg) }

// errorMapper turns a domain error into its wire form, or returns nil when
// the error is not its domain's.
type errorMapper func(error) *apiError

// mapCoreError covers the storage, state and auth errors.
func mapCoreError(err error) *apiError {
	var be *state.BatchError
	switch {
	case errors.As(err, &be):
		return nil // handled by the batch handler, which has the items
	case errors.Is(err, state.ErrNotFound):
		return errNotFound("key not found")
	case errors.Is(err, state.ErrRevisionMismatch):
		return newError(http.StatusConflict, codeRevisionMismatch, "if_revision mismatch")
	case errors.Is(err, state.ErrKeyTooLong):
		return errInvalid("key too long")
	case errors.Is(err, state.ErrEmptyKey):
		return errInvalid("key must not be empty")
	case errors.Is(err, state.ErrInvalidKey):
		return errInvalid("key must be valid UTF-8")
	case errors.Is(err, state.ErrValueTooLarge):
		return newError(http.StatusRequestEntityTooLarge, codePayloadTooLarge, "value too large")
	case errors.Is(err, state.ErrInvalidValue):
		return errInvalid("value is not valid JSON")
	case errors.Is(err, state.ErrTTLTooLarge):
		return errInvalid("ttl_ms too large (at most %d)", uint64(state.MaxTTLMs))
	case errors.Is(err, state.ErrNoOperations):
		return errInvalid("operations required")
	case errors.Is(err, state.ErrTooManyOps):
		return errInvalid("too many operations")
	case errors.Is(err, auth.ErrKeyNotFound):
		return errNotFound("key id not found")
	case errors.Is(err, auth.ErrBadRole):
		return errInvalid("invalid role: use one of %v", auth.Roles)
	case errors.Is(err, auth.ErrBadName):
		return errInvalid("name required (1 to 256 bytes of UTF-8)")
	case errors.Is(err, storage.ErrPersistence):
		return &apiError{Status: http.StatusInternalServerError, Code: codePersistence, Message: "failed to persist event", cause: err}
	case errors.Is(err, storage.ErrClosed):
		return &apiError{Status: http.StatusServiceUnavailable, Code: codeUnavailable, Message: "server is shutting down; retry against a running instance", cause: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{Status: http.StatusRequestTimeout, Code: codeTimeout, Message: "request timed out before it could be processed", cause: err}
	case errors.Is(err, context.Canceled):
		return &apiError{Status: 499, Code: "canceled", Message: "request canceled by the client", cause: err}
	}
	return nil
}

// toAPIError maps any error to its wire form; unknown errors become 500
// internal (the detail goes to the log, not to the client).
func (s *Server) toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	for _, m := range s.mappers {
		if ae := m(err); ae != nil {
			if ae.cause == nil {
				ae.cause = err
			}
			return ae
		}
	}
	return &apiError{Status: http.StatusInternalServerError, Code: codeInternal, Message: "internal error", cause: err}
}
