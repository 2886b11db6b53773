package client_test

import (
	"errors"
	"testing"

	"github.com/luma-db/luma/pkg/client"
)

func TestKeysAndRoles(t *testing.T) {
	in, _ := start(t, "--api-key", "admin-secret")
	admin := newClient(t, in.URL, client.WithAPIKey("admin-secret"))
	ctx := ctxT(t)
	if h := must[*client.Health](t)(admin.Health(ctx)); !h.Auth {
		t.Fatal("health.auth = false with a key configured")
	}
	k := must[*client.NewAPIKey](t)(admin.Keys.Create(ctx, "reader-1", client.RoleReader, map[string]string{"team": "a"}))
	if k.ID == "" || len(k.Key) < 20 || k.Role != client.RoleReader || k.Name != "reader-1" {
		t.Fatalf("created %+v", k)
	}
	keys := must[[]client.APIKey](t)(admin.Keys.List(ctx))
	found := false
	for _, x := range keys {
		if x.ID == k.ID {
			found = x.Role == client.RoleReader && string(x.Permissions) == `{"team":"a"}` && x.CreatedAtMs > 0
		}
	}
	if !found {
		t.Fatalf("list = %+v", keys)
	}
	reader := newClient(t, in.URL, client.WithAPIKey(k.Key))
	put(t, admin, "shared", 1)
	if _, err := reader.State.Get(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.State.Put(ctx, "shared", 2, nil); !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("reader write: %v", err)
	}
	user := must[*client.NewAPIKey](t)(admin.Keys.Create(ctx, "user-1", "", nil))
	if user.Role != client.RoleUser {
		t.Fatalf("default role = %q", user.Role)
	}
	if _, err := newClient(t, in.URL, client.WithAPIKey(user.Key)).Keys.List(ctx); !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("user lists keys: %v", err)
	}
	if err := admin.Keys.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.State.Get(ctx, "shared"); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("revoked key: %v", err)
	}
	if err := admin.Keys.Revoke(ctx, k.ID); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("revoke twice: %v", err)
	}
	if _, err := admin.Keys.Create(ctx, "x", "emperor", nil); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("bad role: %v", err)
	}
	_, local := start(t)
	if _, err := local.Keys.List(ctx); !errors.Is(err, client.ErrNotEnabled) {
		t.Fatalf("local mode: %v", err)
	}
}
