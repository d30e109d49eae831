package local

import (
	"path/filepath"
	"regexp"
	"strings"
)

// KeySource says where a transcode key was found.
type KeySource string

// Where keys come from, in the order they are preferred.
const (
	KeySourceProgressURL KeySource = "progressurl" // the value of -progressurl
	KeySourceArgs        KeySource = "argv"        // any other argument (-manifest_name, …)
	KeySourceCwd         KeySource = "cwd"         // the working directory plex-transcode-<key>-<uuid>
)

// sessionRe matches the singular /transcode/session/<key>/ of Plex's
// transcoder arguments; the optional second group is the per-job uuid of
// 2021+ builds (a 2016 build had /session/<key>/progress).
var sessionRe = regexp.MustCompile(`/transcode/session/([^/?&#\s]+)/(?:([^/?&#\s]+)/)?`)

// uuidSuffixRe matches the "-<uuid>" that follows the key in a session
// directory name.
var uuidSuffixRe = regexp.MustCompile(`-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// sessionDirPrefix starts the name of a transcode session's working directory.
const sessionDirPrefix = "plex-transcode-"

// KeyFromArgs returns the transcode key in a transcoder's arguments: the
// value after -progressurl when it has one, else the first argument that
// contains /transcode/session/<key>/ anywhere (the marker may sit inside a
// longer value). uuid is the job id after the key, when present.
func KeyFromArgs(args []string) (key, uuid string, src KeySource) {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-progressurl" {
			if m := sessionRe.FindStringSubmatch(args[i+1]); m != nil {
				return m[1], uuidOnly(m[2]), KeySourceProgressURL
			}
		}
	}
	for _, a := range args {
		if m := sessionRe.FindStringSubmatch(a); m != nil {
			return m[1], uuidOnly(m[2]), KeySourceArgs
		}
	}
	return "", "", ""
}

// uuidOnly drops a second path element that is not a job id (the
// "progress" or "manifest" of the 2016 layout).
func uuidOnly(s string) string {
	switch s {
	case "progress", "manifest", "seglist":
		return ""
	}
	return s
}

// KeyFromDir returns the transcode key in a working directory such as
// ".../Transcode/Sessions/plex-transcode-<key>-<uuid>". It looks at every
// path element, so segments written to a subfolder still count.
func KeyFromDir(dir string) string {
	parts := strings.FieldsFunc(dir, func(r rune) bool { return r == '/' || r == '\\' })
	for i := len(parts) - 1; i >= 0; i-- {
		name := parts[i]
		if !strings.HasPrefix(name, sessionDirPrefix) {
			continue
		}
		rest := name[len(sessionDirPrefix):]
		if loc := uuidSuffixRe.FindStringIndex(rest); loc != nil && loc[0] > 0 {
			return rest[:loc[0]]
		}
		if i := strings.IndexByte(rest, '-'); i > 0 {
			return rest[:i]
		}
		if rest != "" {
			return rest
		}
	}
	return ""
}

// backgroundMarkers label transcoder jobs that are not playback. They are
// checked in order against the working directory and the arguments
// (lower-cased); the first hit wins. Sources: Plex support article
// 201697383, ClusterPlex transcoder.js, docs/plex-api.md §7.
var backgroundMarkers = []struct{ marker, label string }{
	{"plexcreditsdetection", "credits detection"},
	{"creditsdetection", "credits detection"},
	{"introdetection", "intro detection"},
	{"chromaprint", "intro detection"},
	{"ebur128", "loudness analysis"},
	{"loudnorm", "loudness analysis"},
	{"loudness", "loudness analysis"},
	{"sonic", "sonic analysis"},
	{"/sync/", "sync / optimize"},
	{"optimize", "sync / optimize"},
	{"chapterimages", "chapter images"},
	{"chapter", "chapter images"},
	{"index-sd.bif", "preview thumbnails"},
	{".bif", "preview thumbnails"},
	{"thumb", "thumbnails"},
	{"image2", "thumbnails"},
}

// BackgroundLabel names the kind of non-playback job a keyless Plex
// transcoder is doing ("credits detection", "loudness analysis", …), or
// "background job" when no marker is recognised.
func BackgroundLabel(args []string, cwd string) string {
	hay := strings.ToLower(filepath.ToSlash(cwd) + "\x00" + strings.Join(args, "\x00"))
	for _, m := range backgroundMarkers {
		if strings.Contains(hay, m.marker) {
			return m.label
		}
	}
	return "background job"
}

// InputOf returns the value of the first -i argument, or "".
func InputOf(args []string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-i" {
			return args[i+1]
		}
	}
	return ""
}

// segmentedFormats are output formats that write many files into a folder.
var segmentedFormats = map[string]bool{"hls": true, "dash": true, "segment": true, "ssegment": true, "stream_segment": true}

// OutputTarget works out where a transcoder writes. A Plex transcoder
// writes its segments relative to its working directory, so that is its
// output folder. For others: the folder of -hls_segment_filename, else of
// the last argument when it names a file (relative names are resolved
// against cwd). segmented reports that the folder as a whole is the output;
// otherwise file is the one output file. Both are empty when unknown (cwd
// unreadable, output to a pipe or URL).
func OutputTarget(kind Kind, args []string, cwd string) (dir, file string) {
	if kind == KindPlex {
		return cwd, ""
	}
	resolve := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		if cwd == "" {
			return ""
		}
		return filepath.Join(cwd, p)
	}
	format := ""
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-f" {
			format = args[i+1]
		}
	}
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-hls_segment_filename" && !isURL(args[i+1]) {
			if p := resolve(args[i+1]); p != "" {
				return filepath.Dir(p), ""
			}
		}
	}
	if len(args) < 2 {
		return "", ""
	}
	out := args[len(args)-1]
	if out == "-" || isURL(out) || strings.HasPrefix(out, "-") || (len(args) >= 2 && args[len(args)-2] == "-i") {
		return "", ""
	}
	p := resolve(out)
	if p == "" {
		return "", ""
	}
	ext := strings.ToLower(filepath.Ext(p))
	if segmentedFormats[format] || strings.Contains(p, "%") || ext == ".m3u8" || ext == ".mpd" {
		return filepath.Dir(p), ""
	}
	return filepath.Dir(p), p
}

// isURL reports whether an argument is a URL or protocol (pipe:1, udp://…)
// rather than a file.
func isURL(s string) bool {
	if strings.Contains(s, "://") {
		return true
	}
	if i := strings.IndexByte(s, ':'); i > 1 { // "C:\…" has i == 1
		proto := s[:i]
		return strings.IndexFunc(proto, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '+') }) < 0
	}
	return false
}

// tokenRe matches token values in URLs Plex puts into transcoder arguments
// (live TV inputs carry X-Plex-Token).
var tokenRe = regexp.MustCompile(`(?i)((?:x-plex-token|token|api_key|apikey|password)=)[^&\s"']+`)

// Redact hides tokens in one argument: "…?X-Plex-Token=abc&x=1" becomes
// "…?X-Plex-Token=REDACTED&x=1". Command lines are shown and logged, tokens
// never are (docs/plex-api.md §8.9).
func Redact(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	return tokenRe.ReplaceAllString(s, "${1}REDACTED")
}

// redactAll returns a redacted copy of args.
func redactAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = Redact(a)
	}
	return out
}
