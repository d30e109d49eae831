// Texts of the Transcoders tab and the tray tooltip, without Fyne.

package ui

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/local"
	"github.com/plexwarden/plexwarden/internal/words"
)

// trayTooltip is the tray tooltip: the streams (tooltipText) and, when
// transcoders run on this computer, how many and their CPU:
// "Plex Warden — 3 streams, 1 transcoding · 2 local transcoders (135% CPU)".
func trayTooltip(st *app.State, scan *local.Scan) string {
	tip := tooltipText(st)
	if l := localTooltipText(scan); l != "" {
		tip += " · " + l
	}
	return tip
}

// localTooltipText is "2 local transcoders (135% CPU, 1 orphan)", without
// the CPU before any transcoder was sampled twice; "" for none.
func localTooltipText(scan *local.Scan) string {
	n := scan.Count()
	if n == 0 {
		return ""
	}
	var notes []string
	if slices.ContainsFunc(scan.Transcoders, func(t local.Transcoder) bool { return t.CPUSampled }) {
		notes = append(notes, fmt.Sprintf("%.0f%% CPU", scan.TotalCPU()))
	}
	if o := scan.CountLink(local.LinkOrphan); o > 0 {
		notes = append(notes, words.Plural(o, "orphan", "orphans"))
	}
	s := words.Plural(n, "local transcoder", "local transcoders")
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, ", ") + ")"
	}
	return s
}

// outputIdleAfter is when output activity reads "idle" instead of "last
// write …": a playing transcoder writes a segment every few seconds.
const outputIdleAfter = 30 * time.Second

// linkText says whom a transcoder works for: "alice · The Matrix",
// "orphan since 12:03", "background: credits detection", "not a Plex job".
func linkText(t *local.Transcoder) string {
	switch t.Link {
	case local.LinkLinked:
		if s := t.Session; s != nil {
			if who := joinDot(s.User, s.Title); who != "" {
				return who
			}
			if w := s.Who(); w != "" {
				return w
			}
		}
		return "linked"
	case local.LinkOrphan:
		if t.LinkSince.IsZero() {
			return "orphan"
		}
		return "orphan since " + t.LinkSince.Format("15:04")
	case local.LinkBackground:
		if t.Job == "" {
			return "background job"
		}
		return "background: " + t.Job
	}
	return t.Link.Text()
}

// outputText describes what a transcoder writes: "12 segments · 3.2 MiB ·
// last write 3s ago", "… · idle 45s", or why it cannot be measured (the
// idle rule then does not apply to the process).
func outputText(o local.Output, now time.Time) string {
	if !o.Known {
		if o.Err != "" {
			return "not measurable: " + o.Err
		}
		return "not measurable"
	}
	var parts []string
	if o.File == "" {
		parts = append(parts, words.Plural(o.Segments, "segment", "segments"))
	}
	parts = append(parts, local.FormatBytes(o.Bytes))
	switch active := o.LastActive; {
	case o.Newest.IsZero():
		parts = append(parts, "nothing written yet")
	case !active.IsZero() && now.Sub(active) >= outputIdleAfter:
		parts = append(parts, "idle "+local.FormatUptime(now.Sub(active)))
	default:
		parts = append(parts, "last write "+local.FormatUptime(max(0, now.Sub(o.Newest)))+" ago")
	}
	return joinDot(parts...)
}

// cpuText is "87%", or "—" before the second scan measured it.
func cpuText(t *local.Transcoder) string {
	if !t.CPUSampled {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", t.CPUPercent)
}

// staleText is one stale Plex transcode session:
// "stale: no process · key 4f2a… · alice · The Matrix · since 12:01".
func staleText(s local.StaleSession) string {
	var user, title string
	if s.Session != nil {
		user, title = s.Session.User, s.Session.Title
	}
	since := ""
	if !s.Since.IsZero() {
		since = "since " + s.Since.Format("15:04")
	}
	return joinDot("stale: no process", labelled("key", s.Key), user, title, since)
}

// tcDetailFields name the rows of the details form.
var tcDetailFields = [...]string{"Command line", "Working folder", "Output", "Input", "Transcode key", "Session", "Started", "State"}

// tcDetailValues are the values of tcDetailFields for t.
func tcDetailValues(t *local.Transcoder) [len(tcDetailFields)]string {
	dash := func(v string) string {
		if v == "" {
			return "—"
		}
		return v
	}
	cwd := t.Cwd
	if cwd == "" && t.CwdErr != "" {
		cwd = "unknown: " + t.CwdErr
	}
	out := t.Output.Dir
	if t.Output.File != "" {
		out = t.Output.File
	}
	var session string
	if s := t.Session; s != nil {
		session = joinDot(s.Who(), s.Product, stateText(s.State), s.Server)
	}
	started := ""
	if !t.Started.IsZero() {
		started = joinDot(t.Started.Format("2006-01-02 15:04:05"), "up "+local.FormatUptime(t.Uptime))
	}
	return [len(tcDetailFields)]string{
		dash(commandLine(t.Cmdline)),
		dash(cwd),
		dash(out),
		dash(t.Input),
		dash(joinSpace(t.Key, keySourceText(t.KeySource))),
		dash(joinDot(t.Link.Text(), session)),
		dash(started),
		dash(joinDot(t.State, labelled("parent PID", ppid(t.PPID)), labelled("CPU time", cpuSeconds(t.CPUSeconds)))),
	}
}

// keySourceText says where the transcode key was found.
func keySourceText(s local.KeySource) string {
	switch s {
	case local.KeySourceProgressURL:
		return "(from -progressurl)"
	case local.KeySourceArgs:
		return "(from the arguments)"
	case local.KeySourceCwd:
		return "(from the working folder)"
	case "":
		return ""
	}
	return "(" + string(s) + ")"
}

func ppid(p int32) string {
	if p <= 0 {
		return ""
	}
	return fmt.Sprint(p)
}

func cpuSeconds(s float64) string {
	if s <= 0 {
		return ""
	}
	return local.FormatUptime(time.Duration(s * float64(time.Second)))
}

// commandLine joins arguments for reading and copying, quoting those a
// shell would split: ffmpeg paths often contain spaces.
func commandLine(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'\\$`|&;<>()*?[]#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// localSummary is the line above the table: "2 local transcoders · 135%
// CPU · 1 orphan · scanned 12:05:00".
func localSummary(s *local.Scan) string {
	scanned := ""
	if !s.Time.IsZero() {
		scanned = "scanned " + s.Time.Format("15:04:05")
	}
	if s.Count() == 0 {
		return words.Capitalize(joinDot("no local transcoders", scanned))
	}
	return joinDot(s.Summary(), scanned)
}

// elsewhereText says that the server, its transcoders and their clean-up
// are on another computer, and how to clean up there.
const elsewhereText = "Your Plex server runs on another computer: its transcoders, and the rules file's local clean-up, are there. " +
	"Run \"plexwarden watch\" on the server to clean them up (see docs/RULES.md)."

// demoText explains the tab on the built-in demo server, whose transcodes
// are simulated, not processes.
const demoText = "The demo server is simulated: its transcodes are not processes on this computer. " +
	"With your own server, this tab lists its Plex Transcoder processes when it runs here " +
	"(on another computer, run \"plexwarden watch\" there for the clean-up rules)."

// plexNote says when transcoders cannot be tied to Plex sessions.
func plexNote(s *local.Scan, demo bool) string {
	switch {
	case s.Plex.Elsewhere && demo:
		return joinLines(demoText, remoteJobsText(s.Plex.Remote))
	case s.Plex.Elsewhere:
		return joinLines(elsewhereText, remoteJobsText(s.Plex.Remote))
	case !s.Plex.Asked:
		return "Plex Warden watches no Plex server on this computer, so these processes are not tied to sessions."
	case s.Plex.Err != "":
		return "Plex could not be asked which sessions these transcoders serve: " + s.Plex.Err
	}
	return ""
}

// remoteJobsText lists the transcodes the servers on other computers
// report (/transcode/sessions), one line each: "home · key 4f2a9c ·
// transcode · 1.5× · throttled · HW · 42%"; "" for none.
func remoteJobsText(jobs []local.RemoteJob) string {
	if len(jobs) == 0 {
		return ""
	}
	lines := []string{"The server's own view of its transcodes:"}
	for _, j := range jobs {
		parts := []string{j.Server, "key " + j.Key}
		if j.Context == "static" {
			parts = append(parts, "sync / download / optimize")
		} else if j.Video != "" {
			parts = append(parts, j.Video)
		}
		if j.Speed > 0 {
			parts = append(parts, strconv.FormatFloat(j.Speed, 'f', 1, 64)+"×")
		}
		if j.Throttled {
			parts = append(parts, "throttled (ahead of the viewer)")
		}
		if j.HW {
			parts = append(parts, "HW")
		}
		parts = append(parts, strconv.FormatFloat(j.Progress, 'f', 0, 64)+"%")
		lines = append(lines, joinDot(parts...))
	}
	return strings.Join(lines, "\n")
}

// joinLines joins the non-empty parts with newlines.
func joinLines(parts ...string) string { return joinNonEmpty("\n", parts...) }

// emptyLocalText is shown instead of the table when no transcoder runs.
func emptyLocalText(s *local.Scan, demo bool) string {
	const none = "No transcoder processes on this computer."
	switch {
	case s.Plex.Elsewhere && demo:
		return joinLines(none, demoText, remoteJobsText(s.Plex.Remote))
	case s.Plex.Elsewhere:
		return joinLines(none, elsewhereText, remoteJobsText(s.Plex.Remote))
	case !s.Plex.Asked:
		return none + "\nYour Plex server is not on this computer, so its transcoders do not show here."
	}
	return none
}

// killHow explains how a process is ended on this system.
func killHow() string {
	if runtime.GOOS == "windows" {
		return "Windows ends it at once (TerminateProcess): it cannot clean up."
	}
	return fmt.Sprintf("Plex Warden sends SIGTERM so it can exit cleanly and, if it is still running after %d seconds, SIGKILL.",
		int(local.DefaultForceAfter/time.Second))
}

// killQuestion is the confirmation text: which process, whose stream it
// serves, and how it will be ended.
func killQuestion(t *local.Transcoder) string {
	q := fmt.Sprintf("Kill PID %d (%s)", t.PID, t.Name)
	if t.Owner != "" {
		q += ", run by " + t.Owner
	}
	q += "?\n\n"
	switch t.Link {
	case local.LinkLinked:
		if t.Session != nil && t.Session.Who() != "" {
			q += "It transcodes " + displayArrows(t.Session.Who()) + ": that stream stops."
		} else {
			q += "It transcodes a live Plex session: that stream stops."
		}
		if t.Session != nil && t.Session.SessionKey != "" {
			q += " Stop transcode in the Sessions tab is cleaner: Plex copes with that, while a killed transcoder may be started again."
		}
	case local.LinkOrphan:
		q += "No Plex session uses it any more (" + linkText(t) + ")."
	case local.LinkBackground:
		q += "It is a Plex background job (" + displayArrows(strings.TrimPrefix(linkText(t), "background: ")) + "); Plex may start it again."
	case local.LinkExternal:
		q += "It is not a Plex job."
	default:
		q += "Plex could not say which session it serves (" + t.Link.Text() + ")."
	}
	q += "\n\n" + killHow()
	if !t.CanKill && t.Owner != "" {
		q += " It belongs to " + t.Owner + ": the system may refuse unless Plex Warden runs as that user or as an administrator."
	}
	return q
}
