package local

import (
	"context"
	"slices"
	"strings"

	"github.com/shirou/gopsutil/v4/process"
)

// plexInstallMarkers are path parts of Plex Media Server installs (Linux
// package, Docker images, macOS, Windows), lower-cased. [inferred]
var plexInstallMarkers = []string{"plexmediaserver", "plex media server", "/plex.app/", "\\plex\\"}

// Evidence is what a process shows beyond its name: the signs Kill
// requires before it signals a transcoder.
type Evidence struct {
	Args   []string // the arguments after the program
	Cwd    string   // working directory ("" when unreadable)
	Exe    string   // executable path ("" when unreadable)
	Parent string   // the parent process's name ("" when unknown)
}

// Verify says why a process named like a transcoder of kind may not be
// one, or "" when it shows a sign of being one. A Plex transcoder needs
// one of: a transcode key or Plex markers in its arguments or working
// folder (…/Transcode/Sessions/plex-transcode-<key>-<uuid>), an executable
// under a Plex install, or Plex Media Server as its parent. Another
// transcoder (ffmpeg) needs an input (-i). A program merely copied to the
// name ("sleep" renamed "Plex Transcoder") has none of these.
func Verify(kind Kind, ev Evidence) string {
	switch kind {
	case KindPlex:
		if key, _, _ := KeyFromArgs(ev.Args); key != "" {
			return ""
		}
		if KeyFromDir(ev.Cwd) != "" || containsAny(strings.ToLower(ev.Cwd), append([]string{"/transcode/", "\\transcode\\"}, plexInstallMarkers...)) {
			return ""
		}
		if containsAny(strings.ToLower(ev.Exe), plexInstallMarkers) {
			return ""
		}
		if strings.HasPrefix(strings.ToLower(ev.Parent), "plex media serv") { // comm is cut at 15 bytes
			return ""
		}
		return "it has only the name: no transcode key or Plex session folder in its arguments or working folder, " +
			"its program is not under a Plex Media Server install, and its parent is not Plex Media Server"
	case KindFFmpeg:
		if slices.Contains(ev.Args, "-i") {
			return ""
		}
		return "it has only the name: its arguments name no input (-i), as every ffmpeg transcode does"
	}
	return ""
}

func containsAny(s string, parts []string) bool {
	if s == "" {
		return false
	}
	for _, p := range parts {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// evidenceOf reads what Verify needs; unreadable parts stay empty.
func evidenceOf(ctx context.Context, p *process.Process) Evidence {
	var ev Evidence
	if args, err := p.CmdlineSliceWithContext(ctx); err == nil && len(args) > 1 {
		ev.Args = args[1:]
	}
	ev.Cwd, _ = p.CwdWithContext(ctx)
	ev.Exe, _ = p.ExeWithContext(ctx)
	if pp, err := p.ParentWithContext(ctx); err == nil {
		ev.Parent, _ = pp.NameWithContext(ctx)
	}
	return ev
}
