package diag

import (
	"slices"
	"sort"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

// EntryKind is what a TimelineEntry records.
type EntryKind string

// Timeline entry kinds.
const (
	EntryStart        EntryKind = "start"         // a session started
	EntryEnd          EntryKind = "end"           // a session ended
	EntryTranscode    EntryKind = "transcode"     // a new transcoder job (new transcode key)
	EntryTranscodeEnd EntryKind = "transcode-end" // the session goes on without the transcoder
	EntryCollision    EntryKind = "collision"     // a collision was found
	EntryStorm        EntryKind = "storm"         // a storm began
	EntryCalm         EntryKind = "calm"          // the storm calmed down
)

// TimelineEntry is one step in a player id's recent history, for the
// Diagnostics view.
type TimelineEntry struct {
	Time         time.Time `json:"time"`
	Event        EntryKind `json:"event"`
	Server       string    `json:"server"`
	PlayerID     string    `json:"playerId"`
	SessionKey   string    `json:"sessionKey,omitempty"`
	SessionID    string    `json:"sessionId,omitempty"`
	TranscodeKey string    `json:"transcodeKey,omitempty"`
	Title        string    `json:"title,omitempty"`
	Type         string    `json:"type,omitempty"`
	Product      string    `json:"product,omitempty"`
	Device       string    `json:"device,omitempty"`
	User         string    `json:"user,omitempty"`
	Note         string    `json:"note,omitempty"` // findings: the summary; restarts: the old key
}

// PlayerSummary is one row of the Diagnostics view: a player id and what
// it has been doing.
type PlayerSummary struct {
	Server   string
	PlayerID string
	Title    string   // device name, latest
	Products []string // distinct, most recent last (more than one is itself suspicious)
	Devices  []string
	Users    []string
	Live     int // sessions playing now
	// Starts, Transcodes and Ends count new sessions, new transcoder jobs
	// and ended sessions within the storm window.
	Starts, Transcodes, Ends int
	LastSeen                 time.Time
	Collision                bool // a collision episode is in force
	Storming                 bool // a storm episode is in force
}

func entry(kind EntryKind, s app.Session, now time.Time) TimelineEntry {
	return TimelineEntry{
		Time: now, Event: kind,
		SessionKey: s.SessionKey, SessionID: s.ID, TranscodeKey: s.TranscodeKey,
		Title: s.Title, Type: s.Type, Product: s.Player.Product, Device: s.Player.Device, User: s.User,
	}
}

// add appends to the player's timeline, dropping the oldest entries past
// the cap.
func (p *player) add(opts Options, e TimelineEntry) {
	e.Server, e.PlayerID = p.key.server, p.key.id
	if len(p.timeline) >= opts.TimelineLen {
		p.timeline = slices.Delete(p.timeline, 0, len(p.timeline)-opts.TimelineLen+1)
	}
	p.timeline = append(p.timeline, e)
}

// Timeline returns the recorded history of playerID on server, oldest
// first (a copy). With server "" it merges the player id's history on
// every server.
func (d *Detector) Timeline(server, playerID string) []TimelineEntry {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []TimelineEntry
	for k, p := range d.players {
		if k.id == playerID && (server == "" || k.server == server) {
			out = append(out, p.timeline...)
		}
	}
	if server == "" {
		sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	}
	return out
}

// Players returns every tracked player id, most recently active first.
func (d *Detector) Players() []PlayerSummary {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.opts.Clock()
	cut := now.Add(-d.opts.StormWindow)
	out := make([]PlayerSummary, 0, len(d.players))
	for k, p := range d.players {
		n, storming := d.playerStorm(p, now)
		ps := PlayerSummary{
			Server: k.server, PlayerID: k.id, Title: p.title,
			Products: slices.Clone(p.products), Devices: slices.Clone(p.devices), Users: slices.Clone(p.users),
			Live:   d.live[k.server].count(k.id),
			Starts: n.Sessions, Transcodes: n.Transcodes,
			LastSeen:  p.lastActive,
			Collision: p.collision != nil && now.Sub(p.collision.last) <= d.opts.Hold,
			Storming:  storming,
		}
		for i := len(p.timeline) - 1; i >= 0 && !p.timeline[i].Time.Before(cut); i-- {
			if p.timeline[i].Event == EntryEnd {
				ps.Ends++
			}
		}
		out = append(out, ps)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].LastSeen.Equal(out[j].LastSeen) {
			return out[i].LastSeen.After(out[j].LastSeen)
		}
		if out[i].Server != out[j].Server {
			return out[i].Server < out[j].Server
		}
		return out[i].PlayerID < out[j].PlayerID
	})
	return out
}
