//go:build !(linux || freebsd || openbsd || netbsd)

package app

// SetAutostart returns ErrAutostartUnsupported: registering a login item on
// this system is not implemented yet.
func SetAutostart(enabled bool) error {
	if !enabled {
		return nil // nothing was ever registered
	}
	return ErrAutostartUnsupported
}

// Autostart reports false: see SetAutostart.
func Autostart() bool { return false }
