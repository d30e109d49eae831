package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// TokenFile keeps server tokens in a file: the keyring's stand-in on a
// server with no desktop session (no D-Bus, no Secret Service), and the
// form a systemd credential (LoadCredential=) takes.
//
// The file is text, one entry a line: "KEY=TOKEN", KEY being the keyring
// key of a server (its machineIdentifier). A line with no "=" is a token
// for every server that has no line of its own, so a file holding just a
// pasted X-Plex-Token works. Blank lines and lines starting with "#" are
// ignored. Set and Delete rewrite the file atomically with mode 0600.
type TokenFile struct {
	Path string
	// ReadOnly refuses Set and Delete (a systemd credential is read-only).
	ReadOnly bool

	mu sync.Mutex
}

// tokenAnyKey is the parsed key of a line without "=".
const tokenAnyKey = "*"

// ErrTokenFileNotPrivate is wrapped by TokenFile errors that mean the file can
// be read by other users; see CheckTokenFileMode.
var ErrTokenFileNotPrivate = errors.New("token file readable by other users")

// CheckTokenFileMode refuses a token file that other users can read or
// write (as ssh refuses such a key), saying how to fix it. A missing file
// is reported as such.
func CheckTokenFileMode(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return tokenFileError(path, err)
	}
	if st.IsDir() {
		return fmt.Errorf("token file %s is a directory", path)
	}
	if m := st.Mode().Perm(); m&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o; make it private with: chmod 600 %s", ErrTokenFileNotPrivate, path, m, path)
	}
	return nil
}

// tokenFileError words a failure to read the file; the file's content is
// never part of it.
func tokenFileError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("token file %s does not exist (write it with: plexwarden login --token-file %s)", path, path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("token file %s cannot be read by this user (permission denied)", path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("token file %s: %v", path, pe.Err)
	}
	return fmt.Errorf("token file %s: %v", path, err)
}

// read parses the file into key → token. A missing file is an empty map
// when missingOK.
func (f *TokenFile) read(missingOK bool) (map[string]string, error) {
	b, err := os.ReadFile(f.Path)
	if err != nil {
		if missingOK && errors.Is(err, fs.ErrNotExist) {
			return map[string]string{}, nil
		}
		return nil, tokenFileError(f.Path, err)
	}
	return parseTokenFile(b), nil
}

// parseTokenFile reads the entries of a token file; a later line for the
// same key wins.
func parseTokenFile(b []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, tok, ok := strings.Cut(line, "=")
		if !ok {
			key, tok = tokenAnyKey, line
		}
		key, tok = strings.TrimSpace(key), strings.TrimSpace(tok)
		if key == "" || tok == "" {
			continue
		}
		m[key] = tok
	}
	return m
}

// Get returns the token of key: its own line, else a line without a key.
func (f *TokenFile) Get(_ context.Context, key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read(false)
	if err != nil {
		return "", err
	}
	if t, ok := m[key]; ok {
		return t, nil
	}
	if t, ok := m[tokenAnyKey]; ok {
		return t, nil
	}
	return "", fmt.Errorf("%w in %s", ErrNoSecret, f.Path)
}

// Set stores token under key, keeping the other entries, and leaves the
// file with mode 0600 (creating its directory, 0700, if needed).
func (f *TokenFile) Set(_ context.Context, key, token string) error {
	if strings.ContainsAny(key, "=\n\r") || strings.ContainsAny(token, "\n\r") || strings.TrimSpace(token) == "" {
		return fmt.Errorf("token file %s: a key or token that cannot be stored in it", f.Path)
	}
	return f.update(func(m map[string]string) { m[key] = token })
}

// Delete removes key's entry; a missing one is not an error.
func (f *TokenFile) Delete(_ context.Context, key string) error {
	return f.update(func(m map[string]string) { delete(m, key) })
}

func (f *TokenFile) update(change func(map[string]string)) error {
	if f.ReadOnly {
		return fmt.Errorf("token file %s is read-only here (a systemd credential); change the file it is loaded from", f.Path)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read(true)
	if err != nil {
		return err
	}
	change(m)
	if len(m) == 0 {
		if _, err := os.Stat(f.Path); errors.Is(err, fs.ErrNotExist) {
			return nil // nothing was stored and nothing is: no file to create
		}
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return tokenFileError(f.Path, err)
	}
	if err := WriteFileAtomic(f.Path, formatTokenFile(m)); err != nil {
		return tokenFileError(f.Path, err)
	}
	return nil
}

// formatTokenFile writes the entries back, keyed ones sorted, the
// every-server token (if any) first.
func formatTokenFile(m map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString("# Plex Warden server tokens (KEY=TOKEN, KEY = the server's machineIdentifier).\n" +
		"# Keep this file private (mode 0600). Written by \"plexwarden login --token-file\".\n")
	if t, ok := m[tokenAnyKey]; ok {
		b.WriteString(t + "\n")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != tokenAnyKey {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k + "=" + m[k] + "\n")
	}
	return b.Bytes()
}
