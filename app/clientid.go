package app

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LoadClientID returns this install's X-Plex-Client-Identifier, creating
// and persisting a random one in dir/client-id on first use. It is not a
// secret; it must never change (plex.tv ties sign-ins to it) and never be a
// player's id (Plex stops the earlier session of two clients sharing one).
func LoadClientID(dir string) (string, error) {
	path := filepath.Join(dir, "client-id")
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if id != "" {
			return id, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading client identifier: %w", err)
	}
	id := NewUUID()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("saving client identifier: %w", err)
	}
	if err := WriteFileAtomic(path, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("saving client identifier: %w", err)
	}
	return id, nil
}

// NewUUID returns a random RFC 4122 version 4 UUID.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
