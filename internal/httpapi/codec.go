package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// readBody reads the request body within the configured limit.
func readBody(r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/plain") {
			return nil, newError(http.StatusUnsupportedMediaType, codeUnsupportedMedia,
				fmt.Sprintf("Content-Type %q is not supported: send application/json", ct))
		}
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, newError(http.StatusRequestEntityTooLarge, codePayloadTooLarge,
				fmt.Sprintf("request body larger than %d bytes (MAX_BODY_MB / MAX_BODY_BYTES)", mbe.Limit))
		}
		return nil, errInvalid("could not read request body: %v", err)
	}
	return b, nil
}

// decodeJSON reads the body into v. Malformed JSON is 400; JSON of the
// wrong shape (a string where a number belongs) is 422, as in the original.
func decodeJSON(r *http.Request, v any) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return unmarshalBody(b, v)
}

func unmarshalBody(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errInvalid("request body required: send a JSON object")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return jsonError(err)
	}
	return nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return errUnprocessable("request body must be a JSON %s, got %s", jsonKind(te.Type.Kind().String()), te.Value)
		}
		return errUnprocessable("field %q: expected %s, got %s", field, jsonKind(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return errInvalid("malformed JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errInvalid("malformed JSON: unexpected end of input")
	}
	return errUnprocessable("invalid JSON body: %v", err)
}

func jsonKind(k string) string {
	switch k {
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "float32", "float64":
		return "number"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "non-negative integer"
	}
	return k
}

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":"internal","message":"internal error"}`)
		status = http.StatusInternalServerError
	}
	writeRawJSON(w, status, b)
}

func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Results any    `json:"results,omitempty"`
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.Allow != "" {
		w.Header().Set("Allow", e.Allow)
	}
	writeJSON(w, e.Status, errorBody{Error: e.Code, Message: e.Message, Results: e.Results})
}

// Query parameter helpers.

func queryUint(r *http.Request, name string) (uint64, bool, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return 0, false, nil
	}
	v, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		return 0, false, errInvalid("query parameter %s must be a non-negative integer, got %q", name, raw)
	}
	return v, true, nil
}
