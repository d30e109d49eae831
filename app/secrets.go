package app

import (
	"context"
	"errors"
	"strings"
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
			return "", keyringError(r.err)
		}
		return r.s, nil
	case <-ctx.Done():
		return "", &KeyringError{Locked: true, Reason: unlockHow + "; it gave no answer in time, so an unlock prompt may be waiting"}
	}
}

// KeyringError is why the OS keyring cannot be used, in plain words. It
// matches ErrKeyringUnavailable with errors.Is.
type KeyringError struct {
	// Locked: a keyring service runs but its keyring is locked (an unlock
	// prompt was dismissed, cannot be shown, or got no answer). Otherwise
	// no keyring service could be reached at all.
	Locked bool
	// Reason is the cause in words; Raw is the library's own text, kept
	// for the log, not for the user.
	Reason string
	Raw    string
}

// Error is "No keyring service is running (…)" or "Your keyring is locked:
// unlock it (…) and try again".
func (e *KeyringError) Error() string {
	if e.Locked {
		return "Your keyring is locked: unlock it (" + e.Reason + ") and try again"
	}
	return "No keyring service is running (" + e.Reason + ")"
}

// Is makes a KeyringError match ErrKeyringUnavailable.
func (e *KeyringError) Is(target error) bool { return target == ErrKeyringUnavailable }

// unlockHow is how to unlock a locked keyring, for KeyringError.Reason.
const unlockHow = "log in to your desktop session, or open Passwords and Keys (seahorse) and unlock the login keyring"

// keyringError words a go-keyring failure. The texts it recognises are
// godbus's and go-keyring's own (v0.2.8): no session bus
// (exec: "dbus-launch" …, DBUS_SESSION_BUS_ADDRESS, a dead socket), a bus
// without a Secret Service, and a locked collection.
func keyringError(err error) error {
	raw := err.Error()
	low := strings.ToLower(raw)
	e := &KeyringError{Raw: raw}
	switch {
	case strings.Contains(low, "unlock") || strings.Contains(low, "locked") || strings.Contains(low, "prompt") || strings.Contains(low, "dismissed"):
		e.Locked, e.Reason = true, unlockHow
	case strings.Contains(low, "dbus-launch") || strings.Contains(low, "dbus_session_bus_address") ||
		strings.Contains(low, "no such file") || strings.Contains(low, "connection refused") || strings.Contains(low, "x11"):
		e.Reason = "there is no D-Bus session bus, as on a server without a desktop session; " +
			"start gnome-keyring or KWallet in a desktop session, or keep the token in a file instead"
	case strings.Contains(low, "org.freedesktop.secrets") || strings.Contains(low, "serviceunknown") || strings.Contains(low, "not provided by any"):
		e.Reason = "no Secret Service (gnome-keyring or KWallet) answers on the session bus; start one, or keep the token in a file instead"
	default:
		e.Reason = "the keyring failed: " + raw
	}
	return e
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
