package app

import (
	"fmt"
	"strings"

	"github.com/plexwarden/plexwarden/plex"
)

// What notifications say: the texts of single and combined popups, and
// the sample a test alert shows when nothing plays.

// actionBody says how an action ended and who asked, as a sentence:
// "Terminated by you.", "The session had already ended.", or the failure
// (with the rule that asked).
func actionBody(done, by string, res Result) string {
	switch {
	case res.Outcome == OutcomeDone && by != "":
		return done + " by " + by + "."
	case res.Outcome == OutcomeDone:
		return done + "."
	case by != "" && by != "you":
		return res.Text() + " Asked by " + by + "."
	}
	return res.Text()
}

// compose builds the popup for the pending items of one kind.
func compose(k NotifyKind, items []notifyItem) Notification {
	if len(items) == 1 {
		it := items[0]
		return Notification{Kind: k, Title: it.title, Body: it.body, Server: it.server, User: it.user, SessionKey: it.session, Sticky: it.sticky}
	}
	names := make([]string, 0, len(items))
	seen := map[string]bool{}
	allOK, sticky := true, false
	for _, it := range items {
		sticky = sticky || it.sticky
		if !seen[it.name] {
			seen[it.name] = true
			names = append(names, it.name)
		}
		allOK = allOK && it.ok
	}
	var title string
	count := len(items)
	switch k {
	case NotifyNewSession:
		title = fmt.Sprintf("%d new sessions", count)
	case NotifyTranscode:
		title = fmt.Sprintf("%d transcodes started", count)
	case NotifyTerminated:
		if allOK {
			title = fmt.Sprintf("%d sessions stopped", count)
		} else {
			title = fmt.Sprintf("%d actions, not all succeeded", count)
		}
	case NotifyServerLost:
		title = fmt.Sprintf("Lost connection to %d servers", count)
	case NotifyServerBack:
		title = fmt.Sprintf("%d servers are back", count)
	case NotifyTokenRejected:
		title = fmt.Sprintf("%d servers rejected their token", count)
	}
	title += ": " + listNames(names, 3)
	lines := make([]string, 0, maxBodyLines+1)
	for i, it := range items {
		if i == maxBodyLines && len(items) > maxBodyLines+1 {
			lines = append(lines, fmt.Sprintf("and %d more", len(items)-maxBodyLines))
			break
		}
		lines = append(lines, it.line)
	}
	return Notification{Kind: k, Title: title, Body: strings.Join(lines, "\n"), Sticky: sticky}
}

// listNames joins up to limit names with commas and counts the rest:
// "alice, bob, carol +2".
func listNames(names []string, limit int) string {
	if len(names) <= limit {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:limit], ", ") + fmt.Sprintf(" +%d", len(names)-limit)
}

func newSessionItem(s Session) notifyItem {
	return notifyItem{
		key:   s.Key(),
		name:  s.User,
		title: "New session: " + s.User,
		body:  joinDot(s.Title, s.Short, s.Player.Product, s.Server),
		line:  joinDot(s.User, s.Title, s.Short),

		server: s.Server, user: s.User, session: s.Key(),
	}
}

func transcodeItem(s Session) notifyItem {
	return notifyItem{
		key:   s.Key(),
		name:  s.User,
		title: "Transcoding: " + s.User,
		body:  joinDot(s.Title, s.Reason, s.Server),
		line:  joinDot(s.User, s.Title, s.Short),

		server: s.Server, user: s.User, session: s.Key(),
	}
}

// joinDot joins the non-empty parts with " · ".
func joinDot(parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " · ")
}

// SessionNotification is the popup Plex Warden shows for s on its own: a
// transcode when it transcodes, else a new session. Settings' "Send test"
// renders a real session with it.
func SessionNotification(s Session) Notification {
	k, it := NotifyNewSession, newSessionItem(s)
	if s.Transcoding() {
		k, it = NotifyTranscode, transcodeItem(s)
	}
	return compose(k, []notifyItem{it})
}

// SampleSession is a realistic session for a test alert when nothing is
// playing: a 4K film transcoded for a phone on the road.
func SampleSession() Session {
	return Session{
		Server: "Sample server", ID: "sample", SessionKey: "1", User: "alice", Title: "Blade Runner 2049 (2017)",
		Type: "movie", Kind: plex.KindPlayback, State: "playing",
		Player:   Player{Title: "Alice’s iPhone", Product: "Plex for iOS", Platform: "iOS", Address: "203.0.113.7"},
		Decision: plex.Transcode, Reason: "Transcode: video HEVC 4K → H.264 1080p (HW), audio copy", Short: "Transcode",
	}
}
