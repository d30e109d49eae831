package local

import (
	"path"
	"strings"
)

// Kind says which family of transcoder a process belongs to.
type Kind string

// Kinds of transcoder.
const (
	KindPlex   Kind = "plex"   // Plex Transcoder / Plex New Transcoder
	KindFFmpeg Kind = "ffmpeg" // ffmpeg and other configured names (IPTV tools, Jellyfin, …)
)

// DefaultPlexNames are the process names of Plex's transcoder on Linux,
// Windows (with .exe) and macOS, and of older builds (docs/plex-api.md §7).
var DefaultPlexNames = []string{"Plex Transcoder", "Plex New Transcoder"}

// DefaultFFmpegNames are the ffmpeg process names looked for by default.
var DefaultFFmpegNames = []string{"ffmpeg"}

// commLen is the longest process name Linux keeps (TASK_COMM_LEN - 1):
// "Plex New Transcoder" is reported as "Plex New Transc" when the full name
// cannot be recovered from the command line.
const commLen = 15

// Matcher decides which processes are transcoders. Patterns are shell globs
// (path.Match syntax: *, ?, [a-z]) compared case-insensitively with the
// process name; a trailing ".exe" on the name is optional, so "ffmpeg"
// also matches "ffmpeg.exe" on Windows. The zero Matcher matches the
// defaults.
type Matcher struct {
	Plex   []string // patterns of Plex's transcoder; nil means DefaultPlexNames
	FFmpeg []string // patterns of other transcoders; nil means DefaultFFmpegNames, empty non-nil means none
}

// ParseNames splits a comma-separated list of name patterns, dropping
// blanks: "ffmpeg, ffmpeg-*" → ["ffmpeg", "ffmpeg-*"].
func ParseNames(list string) []string {
	out := []string{}
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Match reports whether a process called name is a transcoder, and of which
// kind. Plex patterns are tried first.
func (m Matcher) Match(name string) (Kind, bool) {
	plexNames, ffNames := m.Plex, m.FFmpeg
	if plexNames == nil {
		plexNames = DefaultPlexNames
	}
	if ffNames == nil {
		ffNames = DefaultFFmpegNames
	}
	if name == "" {
		return "", false
	}
	if matchAny(plexNames, name) {
		return KindPlex, true
	}
	if matchAny(ffNames, name) {
		return KindFFmpeg, true
	}
	return "", false
}

func matchAny(patterns []string, name string) bool {
	n := strings.ToLower(name)
	bare := strings.TrimSuffix(n, ".exe")
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		for _, candidate := range []string{n, bare} {
			if ok, err := path.Match(p, candidate); ok && err == nil {
				return true
			}
		}
		// A name cut to the kernel's 15 characters still matches a literal
		// pattern it is the start of.
		if len(n) == commLen && !strings.ContainsAny(p, "*?[\\") && len(p) > commLen && strings.HasPrefix(p, n) {
			return true
		}
	}
	return false
}

// Names returns every pattern of m, Plex ones first, for messages.
func (m Matcher) Names() []string {
	plexNames, ffNames := m.Plex, m.FFmpeg
	if plexNames == nil {
		plexNames = DefaultPlexNames
	}
	if ffNames == nil {
		ffNames = DefaultFFmpegNames
	}
	return append(append([]string{}, plexNames...), ffNames...)
}
