// Package auth checks API keys and manages the stored ones.
//
// Two kinds of key are accepted: the configured key (LUMA_API_KEY), which is
// always an admin, and managed keys created through /v1/auth/keys. Managed
// keys are stored under storage.PrefixAuthKey as JSON records holding only
// the SHA-256 of the key; the plaintext is returned once, at creation.
// Lookups compare hashes, and the configured key is compared in constant
// time, so response timing does not reveal how much of a guess was right.
//
// Roles: admin (everything, including key management), user (read and
// write data), reader (read-only routes). With no configured key the server
// runs in local mode and auth is off entirely.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"unicode/utf8"

	"github.com/luma-db/luma/internal/storage"
)

// Roles.
const (
	RoleAdmin  = "admin"
	RoleUser   = "user"
	RoleReader = "reader"
)

// Roles lists the valid roles.
var Roles = []string{RoleAdmin, RoleUser, RoleReader}

// Errors.
var (
	ErrMissing     = errors.New("missing authorization header")
	ErrBadHeader   = errors.New("invalid authorization header format")
	ErrInvalidKey  = errors.New("invalid api key")
	ErrKeyNotFound = errors.New("key id not found")
	ErrBadRole     = errors.New("invalid role")
	ErrBadName     = errors.New("name required")
)

// Key is a managed key as listed (never with its secret).
type Key struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Role        string          `json:"role"`
	Permissions json.RawMessage `json:"permissions"`
	CreatedAtMs uint64          `json:"created_at_ms"`
	Hash        string          `json:"hash,omitempty"` // stored, never sent
}

// Principal is who a request authenticated as.
type Principal struct {
	KeyID string // "" for the configured key
	Name  string
	Role  string
}

// CanWrite reports whether the principal may call mutating routes.
func (p Principal) CanWrite() bool { return p.Role == RoleAdmin || p.Role == RoleUser }

// IsAdmin reports whether the principal may manage keys.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// Store holds the configured key and the managed keys.
type Store struct {
	db         *storage.DB
	configured [32]byte // SHA-256 of the configured key
	enabled    bool

	mu     sync.RWMutex // guards byHash and byID
	byHash map[string]*Key
	byID   map[string]*Key
}

// Open loads the managed keys. configuredKey == "" means local mode.
func Open(db *storage.DB, configuredKey string) (*Store, error) {
	s := &Store{db: db, enabled: configuredKey != "", byHash: map[string]*Key{}, byID: map[string]*Key{}}
	if s.enabled {
		s.configured = sha256.Sum256([]byte(configuredKey))
	}
	err := db.ScanPrefix([]byte{storage.PrefixAuthKey}, func(_, v []byte) (bool, error) {
		var k Key
		if err := json.Unmarshal(v, &k); err != nil {
			return false, fmt.Errorf("auth: corrupt key record: %w", err)
		}
		s.byHash[k.Hash] = &k
		s.byID[k.ID] = &k
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Enabled reports whether auth is on (a key is configured).
func (s *Store) Enabled() bool { return s.enabled }

// Authenticate checks a token.
func (s *Store) Authenticate(token string) (Principal, error) {
	if !s.enabled {
		return Principal{Name: "local", Role: RoleAdmin}, nil
	}
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(sum[:], s.configured[:]) == 1 {
		return Principal{Name: "configured key", Role: RoleAdmin}, nil
	}
	h := hex.EncodeToString(sum[:])
	s.mu.RLock()
	k, ok := s.byHash[h]
	s.mu.RUnlock()
	if !ok {
		return Principal{}, ErrInvalidKey
	}
	return Principal{KeyID: k.ID, Name: k.Name, Role: k.Role}, nil
}

// List returns the managed keys, newest first, without hashes.
func (s *Store) List() []Key {
	s.mu.RLock()
	out := make([]Key, 0, len(s.byID))
	for _, k := range s.byID {
		c := *k
		c.Hash = ""
		out = append(out, c)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].CreatedAtMs != out[j].CreatedAtMs {
			return out[i].CreatedAtMs > out[j].CreatedAtMs
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Create stores a new key and returns it with its plaintext, which is not
// kept anywhere.
func (s *Store) Create(ctx context.Context, name, role string, permissions json.RawMessage) (Key, string, error) {
	if name == "" || len(name) > 256 || !utf8.ValidString(name) {
		return Key{}, "", ErrBadName
	}
	if role == "" {
		role = RoleUser
	}
	if !validRole(role) {
		return Key{}, "", ErrBadRole
	}
	if len(permissions) == 0 || string(permissions) == "null" {
		permissions = json.RawMessage("{}")
	}
	secret, err := newSecret()
	if err != nil {
		return Key{}, "", err
	}
	id, err := newUUID()
	if err != nil {
		return Key{}, "", err
	}
	sum := sha256.Sum256([]byte(secret))
	k := &Key{ID: id, Name: name, Role: role, Permissions: permissions, Hash: hex.EncodeToString(sum[:])}
	_, err = s.db.Update(ctx, func(tx *storage.Tx) error {
		k.CreatedAtMs = tx.NowMs()
		rec, err := json.Marshal(k)
		if err != nil {
			return err
		}
		tx.Set(recordKey(id), rec)
		tx.AfterCommit(func() {
			s.mu.Lock()
			s.byHash[k.Hash] = k
			s.byID[k.ID] = k
			s.mu.Unlock()
		})
		return nil
	})
	if err != nil {
		return Key{}, "", err
	}
	out := *k
	out.Hash = ""
	return out, secret, nil
}

// Revoke deletes a managed key.
func (s *Store) Revoke(ctx context.Context, id string) error {
	_, err := s.db.Update(ctx, func(tx *storage.Tx) error {
		if _, err := tx.Get(recordKey(id)); errors.Is(err, storage.ErrNotFound) {
			return ErrKeyNotFound
		} else if err != nil {
			return err
		}
		tx.Delete(recordKey(id))
		tx.AfterCommit(func() {
			s.mu.Lock()
			if k, ok := s.byID[id]; ok {
				delete(s.byHash, k.Hash)
				delete(s.byID, id)
			}
			s.mu.Unlock()
		})
		return nil
	})
	return err
}

func validRole(r string) bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

func recordKey(id string) []byte { return append([]byte{storage.PrefixAuthKey}, id...) }

// newSecret returns "rk_live_" + 43 URL-safe base64 characters (32 random
// bytes), the original's key format.
func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	return "rk_live_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// newUUID returns a random (version 4) UUID string.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
