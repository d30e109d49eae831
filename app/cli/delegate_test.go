package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// buildStub builds a do-nothing program named plexwarden-headless in a
// new folder, with the given tags, main.version and GOARCH, and returns
// the folder.
func buildStub(t *testing.T, tags, version, goarch string) string {
	t.Helper()
	src := t.TempDir()
	files := map[string]string{
		"go.mod":  "module stub\n\ngo 1.22\n",
		"main.go": "package main\n\nvar version = \"dev\"\n\nfunc main() { println(version) }\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	args := []string{"build", "-o", filepath.Join(out, headlessName)}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	if version != "" {
		args = append(args, "-ldflags", "-X main.version="+version)
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the stub: %v\n%s", err, b)
	}
	return out
}

// TestHeadlessBeside: watch moves to the file beside the full binary only
// when it is the headless build of the same version for this system.
func TestHeadlessBeside(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no exec on Windows")
	}
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	text := t.TempDir()
	if err := os.WriteFile(filepath.Join(text, headlessName), []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     string
		version string
		want    bool
		why     string // part of the error when not
	}{
		{name: "same version", dir: buildStub(t, "headless", "v1.2.3", runtime.GOARCH), version: "v1.2.3", want: true},
		{name: "another version", dir: buildStub(t, "headless", "v1.2.2", runtime.GOARCH), version: "v1.2.3", why: `version "v1.2.2"`},
		{name: "not the headless build", dir: buildStub(t, "", "v1.2.3", runtime.GOARCH), version: "v1.2.3", why: "not the headless build"},
		{name: "another system", dir: buildStub(t, "headless", "v1.2.3", other), version: "v1.2.3", why: "built for linux/" + other},
		{name: "not a program", dir: text, version: "v1.2.3", why: "unrecognized file format"},
		{name: "none there", dir: t.TempDir(), version: "v1.2.3", why: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := headlessBeside(filepath.Join(tt.dir, "plexwarden"), tt.version)
			if want := filepath.Join(tt.dir, headlessName); tt.want && (err != nil || got != want) {
				t.Errorf("headlessBeside = %q, %v; want %q", got, err, want)
			}
			if !tt.want && (err == nil || !strings.Contains(err.Error(), tt.why)) {
				t.Errorf("headlessBeside = %q, %v; want an error saying %q", got, err, tt.why)
			}
		})
	}
}

func TestLdVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{`-X main.version=a4b7884-dirty`, "a4b7884-dirty"},
		{`"-s -w -X main.version=1.0"`, "1.0"},
		{`-X 'main.version=2.0'`, "2.0"},
		{`-s -w`, ""},
		{``, ""},
	}
	for _, tt := range tests {
		if got := ldVersion(tt.in); got != tt.want {
			t.Errorf("ldVersion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
