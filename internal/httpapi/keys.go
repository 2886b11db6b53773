package httpapi

import (
	"encoding/json"
	"net/http"
)

func (s *Server) authRoutes() []route {
	return []route{
		{method: "GET", pattern: "/v1/auth/keys", access: accessAdmin, handler: s.keysList},
		{method: "POST", pattern: "/v1/auth/keys", access: accessAdmin, handler: s.keysCreate},
		{method: "DELETE", pattern: "/v1/auth/keys/{id}", access: accessAdmin, handler: s.keysRevoke},
	}
}

// keysEnabled answers 501 not_enabled when there is no key store to manage:
// in local mode (no key configured, CONTRACT.md §9 #2) or with SQLite off
// (the original kept its key store in SQLite, §4.8).
func (s *Server) keysEnabled() error {
	if !s.d.Auth.Enabled() || !s.d.Config.SQLiteEnabled {
		return newError(http.StatusNotImplemented, codeNotEnabled, "auth store not enabled")
	}
	return nil
}

type keyInfo struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Role        string          `json:"role"`
	Permissions json.RawMessage `json:"permissions"`
	CreatedAtMs uint64          `json:"created_at_ms"`
}

// GET /v1/auth/keys: bare array, newest first, never secrets.
func (s *Server) keysList(w http.ResponseWriter, r *http.Request) error {
	if err := s.keysEnabled(); err != nil {
		return err
	}
	keys := s.d.Auth.List()
	out := make([]keyInfo, len(keys))
	for i, k := range keys {
		out[i] = keyInfo{ID: k.ID, Name: k.Name, Role: k.Role, Permissions: k.Permissions, CreatedAtMs: k.CreatedAtMs}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createKeyRequest struct {
	Name        *string         `json:"name"`
	Role        string          `json:"role"`
	Permissions json.RawMessage `json:"permissions"`
}

// POST /v1/auth/keys: the plaintext key is in this answer and nowhere else.
func (s *Server) keysCreate(w http.ResponseWriter, r *http.Request) error {
	if err := s.keysEnabled(); err != nil {
		return err
	}
	var req createKeyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return errUnprocessable("field \"name\" is required")
	}
	k, secret, err := s.d.Auth.Create(r.Context(), *req.Name, req.Role, req.Permissions)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": k.ID, "key": secret, "name": k.Name, "role": k.Role, "created_at_ms": k.CreatedAtMs,
	})
	return nil
}

// DELETE /v1/auth/keys/{id}: 204.
func (s *Server) keysRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := s.keysEnabled(); err != nil {
		return err
	}
	if err := s.d.Auth.Revoke(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
