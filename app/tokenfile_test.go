package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTokenFileGet(t *testing.T) {
	tests := []struct {
		name    string
		content string
		key     string
		want    string
		wantErr error
	}{
		{"keyed line", "m1=tok1\nm2=tok2\n", "m2", "tok2", nil},
		{"bare token for every server", "  pasted-token  \n", "m1", "pasted-token", nil},
		{"own line beats the bare token", "all\nm1=mine\n", "m1", "mine", nil},
		{"comments, blanks and CRLF", "# c\r\n\r\nm1 = tok1\r\n", "m1", "tok1", nil},
		{"byte order mark", "\ufeffm1=tok1\n", "m1", "tok1", nil},
		{"later line wins", "m1=old\nm1=new\n", "m1", "new", nil},
		{"missing key", "m1=tok1\n", "m2", "", ErrNoSecret},
		{"empty file", "", "m1", "", ErrNoSecret},
		{"empty token is no token", "m1=\n", "m1", "", ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokens")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := (&TokenFile{Path: path}).Get(context.Background(), tt.key)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.key, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// Set creates the file (and its directory) private, keeps the other
// entries and rewrites a loose file as 0600; Delete removes one entry.
func TestTokenFileSetDelete(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "tokens")
	f := &TokenFile{Path: path}
	if _, err := f.Get(ctx, "m1"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Get of a missing file = %v, want a does-not-exist error", err)
	}
	if err := f.Delete(ctx, "m1"); err != nil {
		t.Errorf("Delete on a missing file = %v, want nil", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Delete created the file (%v)", err)
	}
	for _, kv := range [][2]string{{"m1", "tok1"}, {"m2", "tok2"}, {"m1", "tok1b"}} {
		if err := f.Set(ctx, kv[0], kv[1]); err != nil {
			t.Fatalf("Set(%s): %v", kv[0], err)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %04o, want 0600", got)
	}
	if err := CheckTokenFileMode(path); err != nil {
		t.Errorf("CheckTokenFileMode = %v, want nil", err)
	}
	for key, want := range map[string]string{"m1": "tok1b", "m2": "tok2"} {
		if got, err := f.Get(ctx, key); got != want || err != nil {
			t.Errorf("Get(%s) = %q, %v; want %q", key, got, err, want)
		}
	}
	if err := f.Delete(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if got, err := f.Get(ctx, "m1"); !errors.Is(err, ErrNoSecret) {
		t.Errorf("Get(m1) after Delete = %q, %v; want ErrNoSecret", got, err)
	}
	if got, _ := f.Get(ctx, "m2"); got != "tok2" {
		t.Errorf("Get(m2) after deleting m1 = %q, want tok2", got)
	}
	// A loose file is refused on reading and made private by the next write.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckTokenFileMode(path); !errors.Is(err, ErrTokenFileNotPrivate) || !strings.Contains(err.Error(), "chmod 600 "+path) {
		t.Errorf("CheckTokenFileMode(0644) = %v, want ErrTokenFileNotPrivate naming chmod 600", err)
	}
	if err := f.Set(ctx, "m3", "tok3"); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode after Set = %04o, want 0600", st.Mode().Perm())
	}
	for _, bad := range [][2]string{{"a=b", "t"}, {"m", "two\nlines"}, {"m", " "}} {
		if err := f.Set(ctx, bad[0], bad[1]); err == nil {
			t.Errorf("Set(%q, …) = nil, want a refusal", bad[0])
		}
	}
	ro := &TokenFile{Path: path, ReadOnly: true}
	if err := ro.Set(ctx, "m4", "x"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("read-only Set = %v, want a read-only error", err)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "m4") {
		t.Errorf("read-only Set wrote the file:\n%s", b)
	}
}

// Errors name the file, never its content.
func TestTokenFileErrorsHideTheToken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens")
	if err := os.WriteFile(path, []byte("m1=SECRET-TOKEN\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := (&TokenFile{Path: path}).Get(context.Background(), "other")
	if err == nil || strings.Contains(err.Error(), "SECRET-TOKEN") || !strings.Contains(err.Error(), path) {
		t.Errorf("Get error = %v, want one naming the file and not the token", err)
	}
	if err := CheckTokenFileMode(dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("CheckTokenFileMode(dir) = %v, want a directory error", err)
	}
}
