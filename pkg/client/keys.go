package client

import (
	"context"
	"encoding/json"
)

// KeysService manages API keys (admin keys only). A server in local mode
// (no key configured) answers ErrNotEnabled.
type KeysService struct{ c *Client }

// APIKey is a managed key (never the secret itself).
type APIKey struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Role        string          `json:"role"`
	Permissions json.RawMessage `json:"permissions"`
	CreatedAtMs uint64          `json:"created_at_ms"`
}

// NewAPIKey is a key just created; Key is the secret, shown only here.
type NewAPIKey struct {
	ID          string `json:"id"`
	Key         string `json:"key"`
	Name        string `json:"name"`
	Role        string `json:"role"`
	CreatedAtMs uint64 `json:"created_at_ms"`
}

// Roles of API keys.
const (
	RoleAdmin  = "admin"
	RoleUser   = "user"
	RoleReader = "reader"
)

// List returns every managed key, newest first.
func (k *KeysService) List(ctx context.Context) ([]APIKey, error) {
	var out []APIKey
	if _, err := k.c.call(ctx, &request{method: "GET", path: "/v1/auth/keys", idempotent: true}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Create makes a key with role (RoleUser when empty) and optional
// permissions (stored, not enforced).
func (k *KeysService) Create(ctx context.Context, name, role string, permissions any) (*NewAPIKey, error) {
	body := map[string]any{"name": name}
	if role != "" {
		body["role"] = role
	}
	if permissions != nil {
		body["permissions"] = permissions
	}
	var out NewAPIKey
	if _, err := k.c.call(ctx, &request{method: "POST", path: "/v1/auth/keys", body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Revoke deletes the key with this id at once (ErrNotFound if unknown).
func (k *KeysService) Revoke(ctx context.Context, id string) error {
	_, err := k.c.call(ctx, &request{method: "DELETE", path: "/v1/auth/keys/" + seg(id), idempotent: true}, nil)
	return err
}
