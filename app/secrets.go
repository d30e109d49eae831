package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// SecretStore keeps server tokens. The OS keyring implements it; tests and
// runs without a keyring use MemoryStore.
type SecretStore interface {
	Get(ctx context.Context, key string) (string, error)
	Set(ctx context.Context, key, secret string) error
	Delete(ctx context.Context, key string) error
}

// Secret store errors.
var (
	ErrNoSecret           = errors.New("no token stored")
	ErrKeyringUnavailable = errors.New("keyring unavailable")
)

// KeyringService is the service name of our OS keyring entries.
const KeyringService = "plexwarden"

// Keyring stores secrets in the OS keyring (Secret Service on Linux,
// Keychain on macOS, Credential Manager on Windows) through
// github.com/zalando/go-keyring. Every call has a timeout: an unanswered
// unlock prompt must not hang the app (zalando/go-keyring#88).
type Keyring struct {
	Service string
	Timeout time.Duration // default 5 s
}

// NewKeyring returns the OS keyring store under KeyringService.
func NewKeyring() *Keyring { return &Keyring{Service: KeyringService, Timeout: 5 * time.Second} }

// KeyringHelp explains how to get a working keyring on this system.
const KeyringHelp = "Plex Warden keeps tokens in the system keyring. On Linux this needs a Secret Service " +
	"(gnome-keyring or KWallet) running and unlocked in your desktop session. Until then the token is " +
	"kept in memory for this run only (set PLEX_TOKEN or type it in again next time)."

func (k *Keyring) call(ctx context.Context, fn func() (string, error)) (string, error) {
	type result struct {
		s   string
		err error
	}
	ctx, cancel := context.WithTimeout(ctx, valueOrDur(k.Timeout, 5*time.Second))
	defer cancel()
	ch := make(chan result, 1) // buffered: a hung call must not pin its goroutine forever
	go func() {
		s, err := fn()
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		switch {
		case errors.Is(r.err, keyring.ErrNotFound):
			return "", ErrNoSecret
		case r.err != nil:
			return "", fmt.Errorf("%w: %v", ErrKeyringUnavailable, r.err)
		}
		return r.s, nil
	case <-ctx.Done():
		return "", fmt.Errorf("%w: no answer from the keyring (locked, or an unlock prompt is waiting)", ErrKeyringUnavailable)
	}
}

func valueOrDur(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Get returns the secret stored under key.
func (k *Keyring) Get(ctx context.Context, key string) (string, error) {
	return k.call(ctx, func() (string, error) { return keyring.Get(k.Service, key) })
}

// Set stores secret under key, replacing any previous one.
func (k *Keyring) Set(ctx context.Context, key, secret string) error {
	_, err := k.call(ctx, func() (string, error) { return "", keyring.Set(k.Service, key, secret) })
	return err
}

// Delete removes the secret under key; a missing one is not an error.
func (k *Keyring) Delete(ctx context.Context, key string) error {
	_, err := k.call(ctx, func() (string, error) { return "", keyring.Delete(k.Service, key) })
	if errors.Is(err, ErrNoSecret) {
		return nil
	}
	return err
}

// MemoryStore keeps secrets in memory only, for this run.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: map[string]string{}} }

// Get returns the secret under key or ErrNoSecret.
func (s *MemoryStore) Get(_ context.Context, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return "", ErrNoSecret
	}
	return v, nil
}

// Set stores secret under key.
func (s *MemoryStore) Set(_ context.Context, key, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = secret
	return nil
}

// Delete removes key.
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// FallbackStore uses Primary (the OS keyring) and, when it is unavailable,
// keeps secrets in memory for this run and remembers why, so the UI can say so.
type FallbackStore struct {
	Primary SecretStore
	mem     *MemoryStore
	mu      sync.Mutex
	lastErr error
}

// NewFallbackStore wraps primary with an in-memory fallback.
func NewFallbackStore(primary SecretStore) *FallbackStore {
	return &FallbackStore{Primary: primary, mem: NewMemoryStore()}
}

// Unavailable returns the keyring error of the last call, or nil.
func (s *FallbackStore) Unavailable() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

func (s *FallbackStore) note(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errors.Is(err, ErrKeyringUnavailable) {
		s.lastErr = err
		return true
	}
	if err == nil {
		s.lastErr = nil
	}
	return false
}

// Get reads the keyring, then memory.
func (s *FallbackStore) Get(ctx context.Context, key string) (string, error) {
	if v, err := s.mem.Get(ctx, key); err == nil {
		return v, nil
	}
	v, err := s.Primary.Get(ctx, key)
	if s.note(err) {
		return "", ErrNoSecret
	}
	return v, err
}

// Set writes the keyring; if it is unavailable the secret is kept in memory
// and ErrKeyringUnavailable is returned (wrapped) so the caller can tell the user.
func (s *FallbackStore) Set(ctx context.Context, key, secret string) error {
	err := s.Primary.Set(ctx, key, secret)
	if s.note(err) {
		_ = s.mem.Set(ctx, key, secret)
		return err
	}
	return err
}

// Delete removes the secret from both.
func (s *FallbackStore) Delete(ctx context.Context, key string) error {
	_ = s.mem.Delete(ctx, key)
	err := s.Primary.Delete(ctx, key)
	if s.note(err) {
		return nil
	}
	return err
}
