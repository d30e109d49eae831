package diag

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/internal/words"
)

// Kind is what a Finding is about.
type Kind string

// Kinds of finding; the values are the "kind" of `watch --json` lines.
const (
	KindCollision Kind = "collision" // probable client-identifier collision
	KindStorm     Kind = "storm"     // transcode storm
)

// Causes say which sign raised a Finding.
const (
	CauseReplaced = "replaced" // collision: one session replaced another of the same player id
	CauseShared   = "shared"   // collision: two live sessions share a player id, products or devices differ
	CausePlayer   = "player"   // storm: one player id
	CauseUser     = "user"     // storm: one user across player ids
)

// Evidence roles.
const (
	RoleEnded     = "ended"     // collision: the session that was replaced
	RoleStarted   = "started"   // collision: the session that replaced it
	RoleLive      = "live"      // collision: one of two live sessions sharing an id
	RoleSession   = "session"   // storm: a new session
	RoleTranscode = "transcode" // storm: a new transcoder job
)

// Finding is one detected problem. Observe returns it once per episode;
// Active returns the episodes still in force with their counts brought up
// to date. It marshals to the JSON object `watch --json` prints and history
// stores (time as RFC 3339, counts.windowSeconds as a number).
type Finding struct {
	// ID names the episode (kind, server, player id or user, start time),
	// so history and notifications can tell a new episode from an update.
	ID       string         `json:"id"`
	Kind     Kind           `json:"kind"`
	Cause    string         `json:"cause"` // one of the Cause constants
	Server   string         `json:"server"`
	PlayerID string         `json:"playerId,omitempty"` // empty for a user storm
	User     string         `json:"user,omitempty"`
	Time     time.Time      `json:"time"`    // when it was detected
	Summary  string         `json:"summary"` // one line, plain words
	Evidence []EvidenceItem `json:"evidence"`
	Remedy   string         `json:"remedy"` // what the admin should do, plain words
	Counts   Counts         `json:"counts"`
	// Timeline is when things happened: for a collision the end and the
	// start (or the two starts); for a storm every counted new session and
	// transcode in the window, oldest first (at most the last 256).
	Timeline []time.Time `json:"timeline"`
}

// EvidenceItem is one session behind a finding, as the server reported it.
type EvidenceItem struct {
	Role         string    `json:"role"` // one of the Role constants
	Time         time.Time `json:"time"` // when Plex Warden saw it happen
	SessionKey   string    `json:"sessionKey,omitempty"`
	SessionID    string    `json:"sessionId,omitempty"`
	TranscodeKey string    `json:"transcodeKey,omitempty"`
	Title        string    `json:"title,omitempty"`
	Type         string    `json:"type,omitempty"` // movie, episode, track, clip, photo
	User         string    `json:"user,omitempty"`
	PlayerID     string    `json:"playerId,omitempty"`
	PlayerTitle  string    `json:"playerTitle,omitempty"` // device name, e.g. "Living Room"
	Product      string    `json:"product,omitempty"`
	Device       string    `json:"device,omitempty"`
	Platform     string    `json:"platform,omitempty"`
}

// Counts are a finding's numbers. For storms, Sessions and Transcodes are
// the new sessions and transcoder jobs in the last Window (Players: how many
// player ids they came from); for collisions, Collisions is how many
// replacements or shared pairs the episode has seen.
type Counts struct {
	Sessions   int           `json:"sessions"`
	Transcodes int           `json:"transcodes"`
	Players    int           `json:"players,omitempty"`
	Collisions int           `json:"collisions,omitempty"`
	Window     time.Duration `json:"-"`
}

// MarshalJSON adds the window as windowSeconds.
func (c Counts) MarshalJSON() ([]byte, error) {
	type plain Counts
	return json.Marshal(struct {
		plain
		WindowSeconds float64 `json:"windowSeconds,omitempty"`
	}{plain(c), c.Window.Seconds()})
}

// Title is a notification title for the finding.
func (f Finding) Title() string {
	if f.Kind == KindStorm {
		return "Transcode storm on " + f.Server
	}
	return "Client-identifier collision on " + f.Server
}

// Text is the notification body and history text: the summary, then the
// remedy.
func (f Finding) Text() string { return f.Summary + "\n" + f.Remedy }

// JSON returns the finding as the generic object a `watch --json` line is
// made of, for callers that add fields of their own.
func (f Finding) JSON() map[string]any {
	b, err := json.Marshal(f)
	if err != nil {
		return map[string]any{"kind": string(f.Kind), "summary": f.Summary}
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// clone returns a copy that shares no slices with f.
func (f Finding) clone() Finding {
	f.Evidence = append([]EvidenceItem(nil), f.Evidence...)
	f.Timeline = append([]time.Time(nil), f.Timeline...)
	return f
}

func evidence(role string, s app.Session, t time.Time) EvidenceItem {
	return EvidenceItem{
		Role: role, Time: t,
		SessionKey: s.SessionKey, SessionID: s.ID, TranscodeKey: s.TranscodeKey,
		Title: s.Title, Type: s.Type, User: s.User,
		PlayerID: s.Player.MachineIdentifier, PlayerTitle: s.Player.Title,
		Product: s.Player.Product, Device: s.Player.Device, Platform: s.Player.Platform,
	}
}

// describe names a session for a summary: `"Inception" (movie, Plex Web on
// Living Room)`.
func describe(s app.Session) string {
	what := s.Type
	if what == "" {
		what = "unknown type"
	}
	if p := playerName(s.Player); p != "" {
		what += ", " + p
	}
	return fmt.Sprintf("%q (%s)", s.Title, what)
}

// playerName is "Product on Title", or whichever of the two is known.
func playerName(p app.Player) string {
	switch {
	case p.Product != "" && p.Title != "" && p.Title != p.Product:
		return p.Product + " on " + p.Title
	case p.Product != "":
		return p.Product
	}
	return p.Title
}

const collisionRemedy = "Two players are sending the same client identifier (X-Plex-Client-Identifier), " +
	"so Plex takes a playback on one as a replacement for the other and stops it; the stopped player " +
	"then fails to load its stream. Give each player its own client identifier: an app with several " +
	"players (for example one for video and one for music) must send a different identifier from each, " +
	"and scripts built on python-plexapi must set their own identifier instead of the default one " +
	"derived from the computer's network address. Until then, don't use both players at once."

const stormRemedy = "A client is starting new playback sessions or transcoder jobs again and again, " +
	"which loads the server while nothing useful plays. Stop this player's transcodes or sessions " +
	"(a rule can do it for a storming player), then restart or update the app on that device; if it " +
	"keeps happening, sign the device out of the account."

const userStormRemedy = stormRemedy + " The sessions come from many player ids, which means the " +
	"app is not keeping its client identifier between requests: update the app, or stop that " +
	"user's transcodes until it is fixed."

func collisionSummary(cause string, a, b app.Session, gap time.Duration) string {
	id := shortID(b.Player.MachineIdentifier)
	if cause == CauseShared {
		return fmt.Sprintf("Probable client-identifier collision: %s and %s play at once with the same player id %s.",
			describe(a), describe(b), id)
	}
	return fmt.Sprintf("Probable client-identifier collision: %s was replaced by %s %s with the same player id %s.",
		describe(a), describe(b), gapWords(gap), id)
}

// gapWords says how far apart the end and the start were.
func gapWords(d time.Duration) string {
	if d < 0 {
		return fmt.Sprintf("which started %s before it ended", roundGap(-d))
	}
	if d < 50*time.Millisecond {
		return "at the same moment"
	}
	return roundGap(d) + " later"
}

func roundGap(d time.Duration) string {
	if d < time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

func shortID(id string) string {
	if len(id) > 16 {
		return id[:12] + "…"
	}
	return id
}

func stormSummary(cause, who string, c Counts) string {
	var parts []string
	if c.Transcodes > 0 {
		parts = append(parts, words.Plural(c.Transcodes, "new transcode", "new transcodes"))
	}
	if c.Sessions > 0 {
		parts = append(parts, words.Plural(c.Sessions, "new session", "new sessions"))
	}
	from := ""
	if cause == CauseUser && c.Players > 1 {
		from = fmt.Sprintf(" from %d player ids", c.Players)
	}
	return fmt.Sprintf("Transcode storm: %s started %s%s in the last %s.", who, strings.Join(parts, " and "), from, windowWords(c.Window))
}

// windowWords prints 2m0s as "2 minutes" and 30s as "30 seconds".
func windowWords(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		return words.Plural(int(d/time.Minute), "minute", "minutes")
	case d >= time.Second && d%time.Second == 0:
		return words.Plural(int(d/time.Second), "second", "seconds")
	}
	return d.String()
}
