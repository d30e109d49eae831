package app

import (
	"errors"
	"strings"
)

// ErrAutostartUnsupported is returned by SetAutostart where Plex Warden
// cannot yet register itself to start at login.
var ErrAutostartUnsupported = errors.New("starting at login is not supported on this system yet")

// AppID is Plex Warden's application id (FyneApp.toml, the .desktop
// entry, the icon names).
const AppID = "io.github.plexwarden.plexwarden"

// autostartFile is the name of the XDG autostart entry: the app id, as
// the installed .desktop entry is named.
const autostartFile = AppID + ".desktop"

// oldAutostartFile is the entry's name before it followed the app id;
// SetAutostart removes it, Autostart still honours it.
const oldAutostartFile = "plexwarden.desktop"

// desktopEntry returns the XDG autostart entry that runs exe.
func desktopEntry(exe string) string {
	return "[Desktop Entry]\n" +
		"Type=Application\n" +
		"Name=Plex Warden\n" +
		"Comment=Watch Plex Media Server sessions and stop unwanted transcodes\n" +
		"Exec=" + execQuote(exe) + "\n" +
		"Icon=" + AppID + "\n" +
		"Terminal=false\n" +
		"X-GNOME-Autostart-enabled=true\n"
}

// execQuote writes path as one Exec= argument, following the Desktop Entry
// Specification: an argument with reserved characters is double-quoted,
// with `"`, "`", `$` and `\` backslash-escaped inside the quotes; the whole
// value is a string value, so each backslash is then doubled again; a
// literal "%" is written "%%".
func execQuote(path string) string {
	path = strings.ReplaceAll(path, "%", "%%")
	if !strings.ContainsAny(path, " \t\n\"'\\><~|&;$*?#()`") {
		return path
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range path {
		switch r {
		case '"', '`', '$':
			b.WriteString(`\\`) // quoting backslash, itself escaped for the string value
			b.WriteRune(r)
		case '\\':
			b.WriteString(`\\\\`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// autostartEnabled reports whether the entry text starts the app: it is not
// hidden and not switched off for GNOME.
func autostartEnabled(entry string) bool {
	for _, line := range strings.Split(entry, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if (k == "Hidden" && v == "true") || (k == "X-GNOME-Autostart-enabled" && v == "false") {
			return false
		}
	}
	return strings.Contains(entry, "[Desktop Entry]")
}
