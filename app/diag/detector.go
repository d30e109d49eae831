package diag

import (
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
)

// Options configures a Detector. Zero fields take the values of
// DefaultOptions.
type Options struct {
	// CollisionWindow is the longest gap between one session of a player id
	// ending and another starting that still counts as a replacement.
	CollisionWindow time.Duration
	// StormSessions and StormTranscodes: more new sessions, or new
	// transcoder jobs, than this within StormWindow is a storm.
	StormSessions   int
	StormTranscodes int
	StormWindow     time.Duration
	// StormPlayers: a user's counts make a storm only when they come from
	// more than this many player ids within StormWindow (see
	// DefaultStormPlayers). A single player's storm needs no such gate.
	StormPlayers int
	// Hold is how long a collision episode stays in force after its last
	// evidence; collisions of the same player id meanwhile extend it
	// instead of being reported again.
	Hold time.Duration
	// Retain is how long an idle player id (no live session, nothing in
	// force) keeps its timeline.
	Retain time.Duration
	// TimelineLen caps each player's timeline (the oldest entries go).
	TimelineLen int
	// MaxPlayers caps how many player ids without a live session, and
	// how many users, are tracked; the least recently active idle ones
	// are forgotten first (a player with a live session is kept, however
	// many there are). A client that rotates its identifier cannot grow
	// memory past it.
	MaxPlayers int
	// Clock is the time source (time.Now). It is called with the
	// Detector's lock held and must not call back into it.
	Clock func() time.Time
}

// Defaults. The storm thresholds come from the real case in the issue —
// 495 new session identifiers in 4 minutes, about 124 a minute, one every
// half second — and from what a healthy player does:
//
//   - a seek restarts the transcoder once (a new transcode key,
//     docs/plex-api.md §3.5); a viewer scrubbing "a few times a minute"
//     makes 3–6 new jobs a minute, and hammering the skip button of a
//     remote makes perhaps 15–20 in a hectic minute, rarely for two;
//   - a new session comes with the next episode (every 20+ minutes) or the
//     next track (every few minutes; a listener skipping through a playlist
//     fast makes one every few seconds, for a while).
//
// A two-minute window smooths a burst of scrubbing and still notices the
// real case quickly. More than 40 new transcodes in it (one every 3 s,
// sustained for two minutes) is twice the hardest scrubbing and a sixth of
// the real case's rate (about 248 per two minutes), so that case is flagged
// after about 20 s. Sessions are rarer than transcoder restarts for a
// healthy player (a seek keeps its session), so more than 30 new sessions
// (one every 4 s for two minutes) is the session threshold, flagged after
// about 15 s at the real rate. The monitor sees transcode keys only when it
// fetches /status/sessions, and restarts that fall between two fetches are
// seen as one: another reason to sit far below the real rate.
//
// The same thresholds apply per user, summed over the user's players, to
// catch a client that also rotates its identifier (a new player id with
// nearly every session, so no single id storms). Summed, a household's
// devices scrubbing at once can pass them, so a user storm also needs more
// than DefaultStormPlayers (6) player ids in the window: a household or a
// shared account keeps a handful of devices busy at once, a rotating client
// brings a new id every few requests.
const (
	DefaultCollisionWindow = 2 * time.Second
	DefaultStormSessions   = 30
	DefaultStormTranscodes = 40
	DefaultStormWindow     = 2 * time.Minute
	DefaultStormPlayers    = 6
	DefaultHold            = 10 * time.Minute
	DefaultRetain          = time.Hour
	DefaultTimelineLen     = 200
	DefaultMaxPlayers      = 512
)

// DefaultOptions returns the defaults (see the Default constants).
func DefaultOptions() Options {
	return Options{
		CollisionWindow: DefaultCollisionWindow,
		StormSessions:   DefaultStormSessions,
		StormTranscodes: DefaultStormTranscodes,
		StormWindow:     DefaultStormWindow,
		StormPlayers:    DefaultStormPlayers,
		Hold:            DefaultHold,
		Retain:          DefaultRetain,
		TimelineLen:     DefaultTimelineLen,
		MaxPlayers:      DefaultMaxPlayers,
		Clock:           time.Now,
	}
}

// Bounds on what one episode or counter keeps.
const (
	maxCollisionEvidence = 12   // six pairs; the count goes on
	maxStormEvidence     = 10   // the latest counted events
	maxStormTimeline     = 256  // Finding.Timeline of a storm
	maxCounted           = 4096 // events per counter; beyond it the count saturates
	maxUserPlayers       = 256  // distinct player ids remembered per user
	maxSeen              = 1 << 15
	sweepEvery           = 10 * time.Second
)

// unknownUser is what app.NewSession puts in Session.User when the server
// names nobody. Sessions of different people would add up under it, so it
// never makes a user storm.
const unknownUser = "(unknown user)"

// Detector finds client-identifier collisions and transcode storms in the
// monitors' updates. All methods are safe for concurrent use. Observe is
// meant to run on the monitor goroutines: its work grows with the update,
// not with the history, apart from a sweep over the tracked players at most
// every 10 s; memory is bounded by Options (TimelineLen, MaxPlayers) and
// by the windows, past which everything is pruned.
type Detector struct {
	opts Options

	mu        sync.Mutex
	players   map[pkey]*player
	users     map[pkey]*counter
	live      map[string]*liveIndex // by server
	seen      map[string]time.Time  // counted identifiers → when
	seenQueue []seenAt              // the same, oldest first, for pruning
	lastSweep time.Time
	// The players and users with an episode open (storm or collision),
	// whether or not in force now; Flagged reads them, sweep drops those
	// closed or forgotten.
	stormP, stormU, collideP map[pkey]struct{}
}

// pkey names a player id or a user on a server.
type pkey struct{ server, id string }

type seenAt struct {
	key string
	t   time.Time
}

// stamped is a session as it was at a moment.
type stamped struct {
	s app.Session
	t time.Time
}

// player is what the detector keeps about one player id of one server.
type player struct {
	key        pkey
	title      string // device name, latest
	user       string // latest user
	products   []string
	devices    []string
	users      []string
	timeline   []TimelineEntry
	starts     []stamped // within CollisionWindow
	ends       []stamped // within CollisionWindow
	cnt        counter
	collision  *episode
	lastActive time.Time
}

// episode is a finding in force.
type episode struct {
	f     Finding
	last  time.Time       // latest evidence (collisions)
	pairs map[string]bool // collision pairs already in it
	// silent: a user storm that is one player's storm, reported as such
	silent bool
}

// New returns a Detector; zero fields of opts take the defaults.
func New(opts Options) *Detector {
	def := DefaultOptions()
	if opts.CollisionWindow <= 0 {
		opts.CollisionWindow = def.CollisionWindow
	}
	if opts.StormSessions <= 0 {
		opts.StormSessions = def.StormSessions
	}
	if opts.StormTranscodes <= 0 {
		opts.StormTranscodes = def.StormTranscodes
	}
	if opts.StormPlayers <= 0 {
		opts.StormPlayers = def.StormPlayers
	}
	if opts.StormWindow <= 0 {
		opts.StormWindow = def.StormWindow
	}
	if opts.Hold <= 0 {
		opts.Hold = def.Hold
	}
	if opts.Retain <= 0 {
		opts.Retain = def.Retain
	}
	if opts.TimelineLen <= 0 {
		opts.TimelineLen = def.TimelineLen
	}
	if opts.MaxPlayers <= 0 {
		opts.MaxPlayers = def.MaxPlayers
	}
	if opts.Clock == nil {
		opts.Clock = def.Clock
	}
	return &Detector{
		opts:     opts,
		players:  map[pkey]*player{},
		users:    map[pkey]*counter{},
		live:     map[string]*liveIndex{},
		seen:     map[string]time.Time{},
		stormP:   map[pkey]struct{}{},
		stormU:   map[pkey]struct{}{},
		collideP: map[pkey]struct{}{},
	}
}

// Options returns the options in use, defaults filled in.
func (d *Detector) Options() Options { return d.opts }

// Observe takes one monitor update and returns the findings it completes:
// each collision and storm episode once, when it begins. Updates of
// different servers may arrive concurrently; those of one server must come
// in order, as a monitor publishes them. Times are the Clock's at Observe,
// so the gap of a replacement includes the monitor's fetch of the new
// session (milliseconds on a LAN) — and, for a poll-only monitor, the whole
// poll interval: there an end and a start in one poll look simultaneous.
func (d *Detector) Observe(up app.Update) []Finding {
	sn := up.Snapshot
	if sn == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.opts.Clock() // under the lock, so times reach the counters in order

	live := d.live[sn.Server]
	if live == nil {
		live = newLiveIndex()
		d.live[sn.Server] = live
	}
	live.observe(up)

	var out []Finding
	var touchedP []*player
	var touchedU []pkey
	touch := func(p *player, u pkey) {
		if p != nil && !slices.Contains(touchedP, p) {
			touchedP = append(touchedP, p)
		}
		if u.id != "" && !slices.Contains(touchedU, u) {
			touchedU = append(touchedU, u)
		}
	}
	// Ends first, so a replacement reported in the same update (one fetch
	// shows the old session gone and the new one there) is found from the
	// start's side.
	for _, kind := range [...]app.ChangeKind{app.Ended, app.Started, app.Changed} {
		for i := range up.Changes {
			c := &up.Changes[i]
			if c.Kind != kind || !countable(c.Session) {
				continue
			}
			p, u := d.onChange(c, now, &out)
			touch(p, u)
		}
	}
	out = append(out, d.shared(live, now)...)
	for _, p := range touchedP {
		if f, ok := d.checkPlayerStorm(p, now); ok {
			out = append(out, f)
		}
	}
	for _, u := range touchedU {
		if f, ok := d.checkUserStorm(u, now); ok {
			out = append(out, f)
		}
	}
	if now.Sub(d.lastSweep) >= sweepEvery || now.Before(d.lastSweep) {
		d.sweep(now)
	}
	return out
}

// countable leaves out what is not a player's own playback.
func countable(s app.Session) bool { return s.Kind != plex.KindTheme }

// onChange records one change and checks it for a replacement. It returns
// the player and user whose counters it may have moved.
func (d *Detector) onChange(c *app.Change, now time.Time, out *[]Finding) (*player, pkey) {
	s := c.Session
	p := d.player(s, now)
	u := userKey(s)
	switch c.Kind {
	case app.Ended:
		if p == nil {
			return nil, pkey{}
		}
		p.add(d.opts, entry(EntryEnd, s, now))
		p.ends = append(pruneStamped(p.ends, now.Add(-d.opts.CollisionWindow)), stamped{s, now})
		// The new session may have been seen first.
		for _, st := range p.starts {
			if f, ok := d.replaced(p, stamped{s, now}, st, now); ok {
				*out = append(*out, f)
			}
		}
		return nil, pkey{}
	case app.Started:
		if p != nil {
			p.add(d.opts, entry(EntryStart, s, now))
			p.starts = append(pruneStamped(p.starts, now.Add(-d.opts.CollisionWindow)), stamped{s, now})
			for _, e := range p.ends {
				if f, ok := d.replaced(p, e, stamped{s, now}, now); ok {
					*out = append(*out, f)
				}
			}
		}
		if d.firstSighting(s.Server, "s", s.SessionKey, "i", s.ID, now) {
			d.count(p, u, RoleSession, s, now)
		}
		if s.TranscodeKey != "" && d.firstSighting(s.Server, "t", s.TranscodeKey, "", "", now) {
			d.count(p, u, RoleTranscode, s, now)
			if p != nil {
				p.add(d.opts, entry(EntryTranscode, s, now))
			}
		}
	case app.Changed:
		if c.Prev == nil || c.Prev.TranscodeKey == s.TranscodeKey {
			return nil, pkey{}
		}
		if s.TranscodeKey == "" {
			if p != nil {
				e := entry(EntryTranscodeEnd, s, now)
				e.TranscodeKey = c.Prev.TranscodeKey
				p.add(d.opts, e)
			}
			return nil, pkey{}
		}
		if d.firstSighting(s.Server, "t", s.TranscodeKey, "", "", now) {
			d.count(p, u, RoleTranscode, s, now)
			if p != nil {
				e := entry(EntryTranscode, s, now)
				if c.Prev.TranscodeKey != "" {
					e.Note = "restarted (was " + shortID(c.Prev.TranscodeKey) + ")"
				}
				p.add(d.opts, e)
			}
		}
	}
	return p, u
}

// player returns the state of s's player id, creating it; nil when the
// session has no player id.
func (d *Detector) player(s app.Session, now time.Time) *player {
	id := s.Player.MachineIdentifier
	if id == "" {
		return nil
	}
	k := pkey{s.Server, id}
	p := d.players[k]
	if p == nil {
		// Room for one more idle player: the others with live sessions
		// do not count.
		others := d.livePlayers()
		if d.live[s.Server].count(id) > 0 {
			others--
		}
		for len(d.players) > 0 && len(d.players) >= d.opts.MaxPlayers+others {
			d.evictPlayer() // (several once many live players have ended)
		}
		p = &player{key: k}
		d.players[k] = p
	}
	p.lastActive = now
	if s.Player.Title != "" {
		p.title = s.Player.Title
	}
	if s.User != "" {
		p.user = s.User
	}
	p.products = addName(p.products, s.Player.Product)
	p.devices = addName(p.devices, s.Player.Device)
	p.users = addName(p.users, s.User)
	return p
}

// addName appends name to a short list of distinct names, keeping the
// latest few.
func addName(list []string, name string) []string {
	if name == "" {
		return list
	}
	if i := slices.Index(list, name); i >= 0 {
		list = slices.Delete(list, i, i+1)
	}
	list = append(list, name)
	if len(list) > 8 {
		list = list[len(list)-8:]
	}
	return list
}

func userKey(s app.Session) pkey {
	if s.User == "" || s.User == unknownUser {
		return pkey{}
	}
	return pkey{s.Server, s.User}
}

// sweep forgets idle players and users and expired episodes.
func (d *Detector) sweep(now time.Time) {
	d.lastSweep = now
	d.pruneSeen(now)
	for k, p := range d.players {
		if p.collision != nil && now.Sub(p.collision.last) > d.opts.Hold {
			p.collision = nil
		}
		d.playerStorm(p, now)
		if d.idle(p, now) {
			delete(d.players, k)
		}
	}
	for k, c := range d.users {
		_, on := d.refreshStorm(c, now)
		if !on && len(c.sessions)+len(c.transcodes) == 0 && now.Sub(c.lastActive) > d.opts.Retain {
			delete(d.users, k)
		}
	}
	d.dropClosed()
}

// dropClosed drops from stormP, stormU and collideP the players and users
// whose episode is closed or who are forgotten.
func (d *Detector) dropClosed() {
	for k := range d.stormP {
		if p := d.players[k]; p == nil || p.cnt.storm == nil {
			delete(d.stormP, k)
		}
	}
	for k := range d.collideP {
		if p := d.players[k]; p == nil || p.collision == nil {
			delete(d.collideP, k)
		}
	}
	for k := range d.stormU {
		if c := d.users[k]; c == nil || c.storm == nil {
			delete(d.stormU, k)
		}
	}
}

// idle reports whether a player can be forgotten.
func (d *Detector) idle(p *player, now time.Time) bool {
	return d.live[p.key.server].count(p.key.id) == 0 && p.collision == nil && p.cnt.storm == nil &&
		now.Sub(p.lastActive) > d.opts.Retain
}

// evictPlayer makes room for one more player: the least recently active
// one, preferring players with nothing live or in force.
func (d *Detector) evictPlayer() {
	var victim *player
	better := func(p *player) bool {
		if victim == nil {
			return true
		}
		pb, vb := d.busy(p), d.busy(victim)
		if pb != vb {
			return !pb
		}
		return p.lastActive.Before(victim.lastActive)
	}
	for _, p := range d.players {
		if better(p) {
			victim = p
		}
	}
	if victim != nil {
		delete(d.players, victim.key)
	}
}

// livePlayers is how many player ids have live sessions now, on every
// server. MaxPlayers bounds the others: a live player is never forgotten
// to make room, so a server with more live players than MaxPlayers (2,000
// sessions) does not lose a player's record at every change of another.
func (d *Detector) livePlayers() int {
	n := 0
	for _, x := range d.live {
		if x != nil {
			n += len(x.groups)
		}
	}
	return n
}

func (d *Detector) busy(p *player) bool {
	return d.live[p.key.server].count(p.key.id) > 0 || p.collision != nil || p.cnt.storm != nil
}

// evictUser makes room for one more user counter: the least recently
// active one, preferring users not in a storm.
func (d *Detector) evictUser() {
	var vk pkey
	var victim *counter
	for k, c := range d.users {
		switch {
		case victim == nil:
		case (c.storm == nil) != (victim.storm == nil):
			if c.storm != nil {
				continue
			}
		case !c.lastActive.Before(victim.lastActive):
			continue
		}
		vk, victim = k, c
	}
	if victim != nil {
		delete(d.users, vk)
	}
}

// Active returns the findings in force now: storms that have not calmed
// down, with their counts and timeline brought up to date, and collisions
// whose last evidence is less than Hold old (Counts.Collisions says how many
// the episode has seen). Sorted by Time.
func (d *Detector) Active() []Finding {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.opts.Clock()
	var out []Finding
	for _, p := range d.players {
		if ep := p.collision; ep != nil {
			if now.Sub(ep.last) <= d.opts.Hold {
				out = append(out, ep.f.clone())
			} else {
				p.collision = nil
			}
		}
		d.playerStorm(p, now)
		if f, ok := d.activeStorm(&p.cnt, now); ok {
			f.Counts.Players = 0
			out = append(out, f)
		}
	}
	for _, c := range d.users {
		if f, ok := d.activeStorm(c, now); ok {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.Before(out[j].Time)
		}
		return out[i].ID < out[j].ID
	})
	return out
}
