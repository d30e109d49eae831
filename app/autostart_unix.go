//go:build linux || freebsd || openbsd || netbsd

package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// autostartPath returns $XDG_CONFIG_HOME/autostart/<name>
// (~/.config/autostart/… when XDG_CONFIG_HOME is unset).
func autostartPath(name string) (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory for the autostart entry: %w", err)
	}
	return filepath.Join(dir, "autostart", name), nil
}

// SetAutostart adds (enabled) or removes the XDG autostart entry that starts
// Plex Warden at login. The entry runs the absolute path of the running
// executable, so enable it again after moving the binary.
func SetAutostart(enabled bool) error {
	path, err := autostartPath(autostartFile)
	if err != nil {
		return err
	}
	// An entry under the old name would start a second copy, or keep
	// starting one after the admin switched it off.
	if old, err := autostartPath(oldAutostartFile); err == nil {
		if st, err := os.Lstat(old); err == nil && !st.IsDir() {
			if err := os.Remove(old); err != nil {
				return fmt.Errorf("removing the old autostart entry: %w", err)
			}
		}
	}
	if !enabled {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing the autostart entry: %w", err)
		}
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding Plex Warden's executable for the autostart entry: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating the autostart folder: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(desktopEntry(exe)), 0o644); err != nil {
		return fmt.Errorf("writing the autostart entry: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing the autostart entry: %w", err)
	}
	return nil
}

// Autostart reports whether an enabled autostart entry exists.
func Autostart() bool {
	for _, name := range []string{autostartFile, oldAutostartFile} {
		path, err := autostartPath(name)
		if err != nil {
			return false
		}
		if b, err := os.ReadFile(path); err == nil {
			return autostartEnabled(string(b))
		}
	}
	return false
}
