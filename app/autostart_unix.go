//go:build linux || freebsd || openbsd || netbsd

package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// autostartPath returns $XDG_CONFIG_HOME/autostart/plexwarden.desktop
// (~/.config/autostart/… when XDG_CONFIG_HOME is unset).
func autostartPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory for the autostart entry: %w", err)
	}
	return filepath.Join(dir, "autostart", autostartFile), nil
}

// SetAutostart adds (enabled) or removes the XDG autostart entry that starts
// Plex Warden at login. The entry runs the absolute path of the running
// executable, so enable it again after moving the binary.
func SetAutostart(enabled bool) error {
	path, err := autostartPath()
	if err != nil {
		return err
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
	path, err := autostartPath()
	if err != nil {
		return false
	}
	b, err := os.ReadFile(path)
	return err == nil && autostartEnabled(string(b))
}
