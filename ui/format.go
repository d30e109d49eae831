package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
)

// The formatting helpers below are pure: they turn domain values into the
// words the window and tray show, and are tested without an app.

// clockText writes milliseconds as h:mm:ss ("0:52:10", "2:07:00").
func clockText(ms int64) string {
	if ms < 0 {
		ms = 0
	}
	s := ms / 1000
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// progressText is the play position: "41% 0:52:10/2:07:00", or just
// "0:52:10" when the duration is unknown (live TV).
func progressText(s *app.Session) string {
	if s.DurationMs <= 0 {
		if s.ViewOffsetMs <= 0 {
			return ""
		}
		return clockText(s.ViewOffsetMs)
	}
	return fmt.Sprintf("%d%% %s/%s", int(s.Progress()*100), clockText(s.ViewOffsetMs), clockText(s.DurationMs))
}

// bitrateText writes a bitrate in kbit/s as "12.3 Mbps" or "850 kbps", and
// "—" when unknown.
func bitrateText(kbps int64) string {
	switch {
	case kbps <= 0:
		return "—"
	case kbps < 1000:
		return fmt.Sprintf("%d kbps", kbps)
	}
	return fmt.Sprintf("%.1f Mbps", float64(kbps)/1000)
}

// locationText says where the player is: "LAN 192.168.1.20",
// "Remote 203.0.113.7", "Cellular 10.1.2.3" or "Relayed" (through
// plex.tv's relay, whose address says nothing about the viewer).
func locationText(s *app.Session) string {
	if s.Relayed {
		return "Relayed"
	}
	var where string
	switch {
	case s.Location == "lan" || (s.Location == "" && s.Player.Local):
		where = "LAN"
	case s.Location == "wan":
		where = "Remote"
	case s.Location == "cellular":
		where = "Cellular"
	case s.Location == "" && s.IsLAN():
		where = "LAN (by address)" // Plex did not say: docs/RULES.md
	case s.Location == "" && s.Player.Address != "":
		where = "Remote (by address)"
	}
	return joinSpace(where, s.Player.Address)
}

// playerText is "product · platform/device", e.g. "Plex Web · Chrome/Windows"
// or "Plex for Roku · Roku"; the player's own name when Plex sends no product.
func playerText(p app.Player) string {
	where := p.Platform
	if p.Device != "" && !strings.EqualFold(p.Device, p.Platform) {
		if where != "" {
			where += "/" + p.Device
		} else {
			where = p.Device
		}
	}
	product := p.Product
	if product == "" {
		product = p.Title
	}
	return joinDot(product, where)
}

// qualityText is the source resolution and codec and, for a video
// transcode, the target: "4K HEVC→1080p H.264" (no spaces round the arrow:
// see displayArrows). Music shows its codec.
func qualityText(s *app.Session) string {
	src := joinSpace(s.SourceResolution, plex.CodecName(s.SourceVideoCodec))
	if src == "" {
		return plex.CodecName(s.SourceAudioCodec)
	}
	if s.VideoTranscode {
		dst := joinSpace(s.TargetResolution, plex.CodecName(s.TargetVideoCodec))
		if dst != "" && dst != src {
			return src + "→" + dst
		}
	}
	return src
}

// displayArrows rewrites arrows for Fyne labels. Fyne 2.8 takes "→" from
// its bundled symbol font, which has no space glyph, and draws a space
// that follows the arrow with that font: a missing-glyph box
// (go-text/typesetting#257 fixed it after the version Fyne 2.8.1 uses).
// "4K→1080p" renders cleanly; other arrows (➔, ⇒) are not bundled at all.
// So " → " becomes " to " and an arrow before white space loses the
// space. Tray menus and notifications are drawn by the desktop and keep
// the original text.
func displayArrows(s string) string {
	s = strings.ReplaceAll(s, " → ", " to ")
	s = strings.ReplaceAll(s, "→ ", "→")
	return strings.ReplaceAll(s, "→\u00a0", "→")
}

// messageText prepares the terminate message for the dialog's entry,
// where the admin reads and edits what the viewer will get: menu paths
// "Settings → Video" become "Settings › Video" (see displayArrows).
func messageText(s string) string {
	s = strings.ReplaceAll(s, " → ", " › ")
	return strings.ReplaceAll(s, "→ ", "› ")
}

// decisionText is the Decision column: the classifier's short label.
func decisionText(s *app.Session) string {
	if s.Short != "" {
		return s.Short
	}
	return s.Decision.String()
}

// stateText capitalises the player state ("playing" → "Playing").
func stateText(state string) string {
	if state == "" {
		return ""
	}
	return strings.ToUpper(state[:1]) + state[1:]
}

// transcodeText describes the transcoder: "speed 1.4× · throttled · 63% done".
func transcodeText(s *app.Session) string {
	if s.TranscodeKey == "" {
		return "none"
	}
	var parts []string
	if s.TranscodeSpeed > 0 {
		parts = append(parts, fmt.Sprintf("speed %.1f×", s.TranscodeSpeed))
	}
	if s.Throttled {
		parts = append(parts, "throttled")
	}
	if s.TranscodeProgress > 0 {
		parts = append(parts, fmt.Sprintf("%.0f%% done", s.TranscodeProgress))
	}
	if hw := s.HW; hw != "" {
		parts = append(parts, hw)
	}
	return joinDot(append([]string{s.TranscodeKey}, parts...)...)
}

// timeAgoText writes a moment as "12:01:02 (5m ago)".
func timeAgoText(t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	return t.Format("15:04:05") + " (" + agoText(d) + ")"
}

// agoText writes an age as "just now", "45s ago", "5m ago" or "2h10m ago".
func agoText(d time.Duration) string {
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh%02dm ago", int(d.Hours()), int(d.Minutes())%60)
}

// summaryText counts the streams: "3 streams, 1 transcoding", "1 stream",
// "Nothing playing".
//
// Sessions of a server that is down are not counted (they are only last
// known), and the summary says a server that cannot be reached is down:
// "server down" with one server, "Home down" with several (a rejected
// token has its own line, problemTexts).
func summaryText(st *app.State) string {
	var streams, transcodes int
	var down []string
	for _, sn := range st.Servers {
		if serverDown(sn) {
			if s := sn.Conn.Status; s != app.Unauthorized && s != app.NoToken { // those have a line of their own
				down = append(down, sn.Server)
			}
			continue
		}
		for s := range sn.All() {
			streams++
			if s.Transcoding() {
				transcodes++
			}
		}
	}
	s := "Nothing playing"
	switch {
	case streams == 1:
		s = "1 stream"
	case streams > 1:
		s = fmt.Sprintf("%d streams", streams)
	}
	if transcodes > 0 {
		s += fmt.Sprintf(", %d transcoding", transcodes)
	}
	switch {
	case len(down) == 0:
	case len(st.Servers) == 1:
		s += " · server down"
	default:
		s += " · " + strings.Join(down, ", ") + " down"
	}
	return s
}

// problemTexts lists servers that need attention: "Home: token rejected".
func problemTexts(st *app.State) []string {
	var out []string
	for _, sn := range st.Servers {
		if sn.Conn.Status.Problem() {
			text := sn.Conn.Status.String()
			if sn.Conn.Err == app.TokenRejectedHint {
				text = app.TokenRejectedHint // still watched: the token is tried again
			}
			out = append(out, sn.Server+": "+text)
		}
	}
	return out
}

// tooltipText is the tray tooltip: "Plex Warden — 3 streams, 1 transcoding",
// with servers that need attention appended.
func tooltipText(st *app.State) string {
	if st == nil || len(st.Servers) == 0 {
		return "Plex Warden — no server yet"
	}
	return "Plex Warden — " + strings.Join(append([]string{summaryText(st)}, problemTexts(st)...), " · ")
}

// serverLine is one server's status line:
// "Demo server — connected · last event 12:03:04".
func serverLine(sn *app.Snapshot, now time.Time) string {
	return sn.Server + " — " + sn.Conn.Line(now)
}

// emptyText is shown instead of the table when nothing plays.
func emptyText(st *app.State) string {
	if st == nil || len(st.Servers) == 0 {
		return "No server yet. Add your Plex server in Settings."
	}
	names := make([]string, 0, len(st.Servers))
	for _, sn := range st.Servers {
		names = append(names, sn.Server)
	}
	return "Nothing is playing on " + joinAnd(names) + "."
}

// joinAnd joins names as "A", "A and B", "A, B and C".
func joinAnd(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// joinDot joins the non-empty parts with " · ".
func joinDot(parts ...string) string { return joinNonEmpty(" · ", parts...) }

// joinSpace joins the non-empty parts with a space.
func joinSpace(parts ...string) string { return joinNonEmpty(" ", parts...) }

func joinNonEmpty(sep string, parts ...string) string {
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// truncate shortens s to at most n runes, ending with "…".
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
