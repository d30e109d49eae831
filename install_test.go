package main

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallLayout runs `make install-files` (what `make install` and
// `make package` both lay out) into a temporary DESTDIR with stand-in
// binaries, checks every file is where desktops and systemd look for it,
// validates the .desktop entry (desktop-file-validate) and the service
// unit (systemd-analyze verify) when those tools are installed, and checks
// that `make uninstall` removes it all.
func TestInstallLayout(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	const prefix, appID = "/usr/local", "io.github.plexwarden.plexwarden"
	dest := t.TempDir()
	stub := filepath.Join(t.TempDir(), "stub")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	mk := func(target string) {
		t.Helper()
		cmd := exec.Command("make", "--no-print-directory", target, "DESTDIR="+dest, "PREFIX="+prefix, "BINARY_SRC="+stub, "HEADLESS_SRC="+stub)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make %s: %v\n%s", target, err, out)
		}
	}
	mk("install-files")
	root := filepath.Join(dest, prefix)
	files := []struct {
		path string
		exec bool
	}{
		{"bin/plexwarden", true},
		{"bin/plexwarden-headless", true},
		{"share/icons/hicolor/48x48/apps/" + appID + ".png", false},
		{"share/icons/hicolor/512x512/apps/" + appID + ".png", false},
		{"share/icons/hicolor/scalable/apps/" + appID + ".svg", false},
		{"share/applications/" + appID + ".desktop", false},
		{"lib/systemd/system/plexwarden-watch.service", false},
		{"share/doc/plexwarden/LICENSE", false},
	}
	for _, f := range files {
		st, err := os.Stat(filepath.Join(root, f.path))
		if err != nil {
			t.Errorf("%s not installed: %v", f.path, err)
			continue
		}
		if got := st.Mode().Perm()&0o111 != 0; got != f.exec {
			t.Errorf("%s executable = %v, want %v", f.path, got, f.exec)
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, files[2].path)); err == nil {
		if cfg, err := png.DecodeConfig(bytes.NewReader(b)); err != nil || cfg.Width != 48 || cfg.Height != 48 {
			t.Errorf("48x48 icon: %dx%d, %v", cfg.Width, cfg.Height, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(root, "share/doc/plexwarden/LICENSE")); !bytes.Contains(b, []byte("MIT License")) || !bytes.Contains(b, []byte("Plex Warden contributors")) {
		t.Errorf("LICENSE is not the MIT licence of Plex Warden contributors:\n%.200s", b)
	}

	desktop := filepath.Join(root, "share/applications", appID+".desktop")
	entry, _ := os.ReadFile(desktop)
	main := map[string]bool{"AudioVideo": true, "Audio": true, "Video": true, "Development": true, "Education": true, "Game": true,
		"Graphics": true, "Network": true, "Office": true, "Science": true, "Settings": true, "System": true, "Utility": true}
	var mains []string
	for _, line := range strings.Split(string(entry), "\n") {
		if v, ok := strings.CutPrefix(line, "Categories="); ok {
			for _, c := range strings.Split(strings.TrimSuffix(v, ";"), ";") {
				if main[c] {
					mains = append(mains, c)
				}
			}
		}
	}
	if len(mains) != 1 {
		t.Errorf("main categories %v, want exactly one", mains)
	}
	for _, want := range []string{"Exec=" + prefix + "/bin/plexwarden\n", "Icon=" + appID + "\n"} {
		if !strings.Contains(string(entry), want) {
			t.Errorf(".desktop entry lacks %q:\n%s", want, entry)
		}
	}
	if _, err := exec.LookPath("desktop-file-validate"); err == nil {
		if out, err := exec.Command("desktop-file-validate", desktop).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("desktop-file-validate: %v\n%s", err, out)
		}
	} else {
		t.Log("desktop-file-validate not installed (desktop-file-utils): the entry was not validated")
	}

	unit, _ := os.ReadFile(filepath.Join(root, "lib/systemd/system/plexwarden-watch.service"))
	for _, want := range []string{"ExecStart=" + prefix + "/bin/plexwarden-headless watch\n", "DynamicUser=yes\n", "ProtectSystem=strict\n",
		"NoNewPrivileges=yes\n", "LoadCredential=plexwarden-tokens:/etc/plexwarden/tokens\n", "StateDirectory=plexwarden\n"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	if strings.Contains(string(unit), "PLEX_TOKEN=") {
		t.Error("the unit puts a token in the environment")
	}
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		// Verify a copy whose ExecStart names the installed stand-in.
		check := filepath.Join(t.TempDir(), "plexwarden-watch.service")
		fixed := strings.ReplaceAll(string(unit), "ExecStart="+prefix, "ExecStart="+root)
		if err := os.WriteFile(check, []byte(fixed), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("systemd-analyze", "verify", check).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	} else {
		t.Log("systemd-analyze not installed: the unit was not verified")
	}

	mk("uninstall")
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(root, f.path)); err == nil {
			t.Errorf("%s left after make uninstall", f.path)
		}
	}
}
