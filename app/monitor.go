package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

// SessionSource reads the full session list of one server;
// *plex.Client implements it.
type SessionSource interface {
	Sessions(ctx context.Context) ([]plex.Metadata, error)
}

// MonitorConfig configures a Monitor.
type MonitorConfig struct {
	Server    string        // name shown everywhere
	URL       string        // token-free base URL, for display
	Demo      bool          // the built-in simulator
	Source    SessionSource // /status/sessions
	Feed      *plex.Feed    // live events; nil = poll only
	Reconcile time.Duration // periodic full fetch (default 30 s)
	// Coalesce bounds how often changes that need no fetch (play position,
	// transcode progress) are published (default 250 ms). Lifecycle changes
	// are published at once.
	Coalesce time.Duration
	Now      func() time.Time
	Log      *slog.Logger
	// Metadata reads the library's description of an item, for the source
	// of transcoding sessions; nil uses Source when it can (*plex.Client).
	Metadata MetadataSource
	// Refresh is the least time between two fetches that events of known
	// sessions trigger (default 5 s), so a bandwidth change, which no event
	// carries, is seen within Refresh plus one player report (about 10 s)
	// instead of at the next Reconcile. Negative: never.
	Refresh time.Duration
	// Linger is how long a session on its way out (stopped, terminated, or
	// replaced by a newer one on the same player) is treated as leaving
	// while Plex still lists it (default LingerWindow).
	Linger time.Duration
	// NoToken: no token is known for the server (signed out, or the
	// keyring lost it). Run then contacts nobody: it publishes NoToken
	// with NoTokenHint and returns, so the window and tray say what to do
	// instead of showing a server that merely rejects a token.
	NoToken bool
	// RejectAtStart: a token rejected before the server ever accepted it
	// ends Run with an error wrapping plex.ErrUnauthorized (the start-up
	// check of the watch command). A token rejected later, or always
	// without it, is a state (Unauthorized, TokenRejectedHint) the feed
	// retries with a long backoff: monitoring never ends on its own.
	RejectAtStart bool
	// MinFetchInterval paces /status/sessions fetches: at most fetchBurst
	// start in any fetchBurst × MinFetchInterval (default 250 ms: at most 4
	// in any second), so one after a quiet moment is never delayed.
	MinFetchInterval time.Duration
	// HoldMin and HoldMax bound the pause before the next fetch after an
	// answer that was too large or asked to slow down (429/503): it starts
	// at HoldMin and doubles while such answers go on, up to HoldMax
	// (defaults 2 s and 60 s). A Retry-After is honoured within HoldMax.
	HoldMin, HoldMax time.Duration
}

// maxBatch bounds how many queued events one snapshot takes in (Run).
const maxBatch = 512

// publishGap bounds the least time between two snapshots made for events
// (Run, Monitor.gap): events closer to the last one wait for it together.
// 100 snapshots a second are more than anyone reads (the window applies at
// most 10), and each costs a copy of the session list and a pass of every
// subscriber: at 2,000 sessions × 500 changes/s, a 4 ms gap used 56–64 %
// of a core, 10 ms 39–43 % (docs/BENCHMARKS.md), for a few ms more lag.
const publishGap = 10 * time.Millisecond

// gapFactor: the gap is this many times what the last snapshot cost
// (within publishGap), so publishing takes at most about a tenth of the
// monitor's time, and small servers, whose snapshots cost microseconds,
// publish every event at once.
const gapFactor = 10

// fetchBurst is how many fetches may start back to back before
// MinFetchInterval paces them (MonitorConfig.MinFetchInterval).
const fetchBurst = 4

// LingerWindow is MonitorConfig.Linger's default: Plex lists a stopped
// session for a few seconds, a player may take one report (10 s) to obey a
// terminate.
const LingerWindow = 30 * time.Second

// Reasons a listed session is leaving (Session.Leaving).
const (
	LeavingStopped    = "stopped"
	LeavingTerminated = "terminated"
	LeavingReplaced   = "replaced by a newer session on the same player"
)

// NoTokenHint is the status detail of a server whose token is missing:
// what to do about it.
const NoTokenHint = "sign in again, or add its token in Settings"

// Monitor follows one server: it merges SSE events and /status/sessions
// into immutable snapshots and publishes them with the session lifecycle
// changes. One goroutine owns all state; fetches run beside it, one at a
// time, and triggers that arrive meanwhile collapse into one more fetch.
type Monitor struct {
	cfg  MonitorConfig
	subs []func(Update)

	events    chan feedMsg
	url       atomic.Pointer[string] // display URL; SetURL changes it
	overflow  atomic.Bool            // an event was dropped: fetch to catch up
	last      atomic.Pointer[Snapshot]
	fetches   atomic.Int64
	badEvents atomic.Int64

	// owned by the run goroutine
	sessions map[string]Session // by Key()
	// list is the last published list, sorted (FirstSeen, Key); it is
	// shared with that snapshot and never modified.
	list []Session
	// edits are the sessions changed or removed since list was published,
	// by key, as list has them: publish patches them in (O(log N) to find
	// each, one copy of the list) instead of sorting every session again.
	// Events never move a session in the order (its FirstSeen and key stay).
	edits map[string]Session
	// rebuild: the session set changed wholesale (a fetch); publish sorts.
	rebuild bool
	// byTranscode finds a session by its transcode key (Session.Key).
	byTranscode map[string]string
	// staged are changes applied but not published yet: Run handles every
	// event already queued before it publishes, so a burst costs one
	// snapshot, not one each. stagedAt is the earliest event among them.
	staged   []Change
	stagedAt time.Time
	stagedOK bool
	// lastPublish is when the last snapshot began, publishCost what it
	// took with its subscribers (Monitor.gap).
	lastPublish time.Time
	publishCost time.Duration
	conn        Conn
	feedUp      bool          // the event stream is open (or there is none): fetches alone can restore Connected
	accepted    bool          // the server accepted the token once (stream opened or a fetch worked)
	fatal       error         // ends Run: a token rejected at start with RejectAtStart
	hold        time.Duration // the last hold after an oversized or "slow down" answer; 0 after a good one
	seq         uint64
	fetching    bool
	again       bool
	eventTime   time.Time // arrival of the event that triggered the pending fetch
	dirty       bool      // unpublished position/progress updates
	// tombstones are sessions a "stopped" event removed; a fetch that
	// started before the removal must not bring them back.
	tombstones map[string]time.Time
	// localAt marks state changes applied from events; a fetch that started
	// before one must not undo it.
	localAt map[string]time.Time
	// leaving marks sessions on their way out (terminated) until a time.
	leaving   map[string]leaveMark
	sources   *Sources
	lastFetch time.Time
}

type leaveMark struct {
	why   string
	until time.Time
}

type feedMsg struct {
	ev      plex.Event
	leave   *leaveMsg
	state   *plex.FeedState
	connect bool
	at      time.Time
}

type leaveMsg struct{ key, why string }

type fetchResult struct {
	items   []plex.Metadata
	sources []*plex.Media // per item: the version played, from the library
	err     error
	trigger time.Time
	started time.Time
}

// NewMonitor returns a monitor; call Subscribe before Run.
func NewMonitor(cfg MonitorConfig) *Monitor {
	if cfg.Reconcile <= 0 {
		cfg.Reconcile = 30 * time.Second
	}
	if cfg.Coalesce <= 0 {
		cfg.Coalesce = 250 * time.Millisecond
	}
	if cfg.MinFetchInterval <= 0 {
		cfg.MinFetchInterval = 250 * time.Millisecond
	}
	if cfg.HoldMin <= 0 {
		cfg.HoldMin = 2 * time.Second
	}
	if cfg.HoldMax < cfg.HoldMin {
		cfg.HoldMax = max(cfg.HoldMin, 60*time.Second)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = 5 * time.Second
	}
	if cfg.Linger <= 0 {
		cfg.Linger = LingerWindow
	}
	if cfg.Metadata == nil {
		cfg.Metadata, _ = cfg.Source.(MetadataSource)
	}
	m := &Monitor{cfg: cfg, events: make(chan feedMsg, 4096), sessions: map[string]Session{}, tombstones: map[string]time.Time{}, localAt: map[string]time.Time{},
		leaving: map[string]leaveMark{}, sources: NewSources(cfg.Metadata, nil), edits: map[string]Session{}, byTranscode: map[string]string{}}
	m.conn = Conn{Status: Connecting, Since: cfg.Now()}
	m.url.Store(&cfg.URL)
	m.last.Store(&Snapshot{Server: cfg.Server, URL: cfg.URL, Demo: cfg.Demo, Conn: m.conn, Time: cfg.Now()})
	return m
}

// SetURL records that the server is now reached at url (its Source and
// Feed moved there) and re-reads its sessions; the next snapshot shows it
// (any goroutine).
func (m *Monitor) SetURL(url string) {
	m.url.Store(&url)
	m.Resync()
}

// Subscribe registers fn to receive every update, on the monitor's
// goroutine, in order. fn must return quickly. Call before Run.
func (m *Monitor) Subscribe(fn func(Update)) { m.subs = append(m.subs, fn) }

// Snapshot returns the latest published snapshot (any goroutine).
func (m *Monitor) Snapshot() *Snapshot { return m.last.Load() }

// Server returns the monitor's server name.
func (m *Monitor) Server() string { return m.cfg.Server }

// Fetches returns how many /status/sessions fetches were made (tests, benchmarks).
func (m *Monitor) Fetches() int64 { return m.fetches.Load() }

// BadEvents returns how many undecodable events were skipped.
func (m *Monitor) BadEvents() int64 { return m.badEvents.Load() }

// MarkLeaving records that the session of key (Session.Key) is on its way
// out (why: LeavingTerminated): while Plex still lists it, it is published
// with Leaving set, and rules neither act on nor count it (any goroutine).
func (m *Monitor) MarkLeaving(key, why string) {
	m.post(feedMsg{leave: &leaveMsg{key: key, why: why}, at: time.Now()})
}

// Resync asks for a full fetch (any goroutine).
func (m *Monitor) Resync() {
	select {
	case m.events <- feedMsg{connect: true, at: time.Now()}:
	default:
		m.overflow.Store(true)
	}
}

func (m *Monitor) post(msg feedMsg) {
	select {
	case m.events <- msg:
	default:
		// Never block the feed: remember to catch up with a full fetch.
		m.overflow.Store(true)
	}
}

// Run follows the server until ctx ends and returns ctx.Err(). A rejected
// token is published as Unauthorized and retried; only with RejectAtStart,
// a token rejected before it ever worked ends Run with an error wrapping
// plex.ErrUnauthorized.
func (m *Monitor) Run(ctx context.Context) error {
	if m.cfg.NoToken {
		m.setConn(Conn{Status: NoToken, Err: NoTokenHint})
		return fmt.Errorf("server %q: %w (no token stored; %s)", m.cfg.Server, plex.ErrUnauthorized, NoTokenHint)
	}
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel (defers run last first)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	feedDone := make(chan error, 1)
	if f := m.cfg.Feed; f != nil {
		f.OnEvent = func(ev plex.Event) { m.post(feedMsg{ev: ev, at: time.Now()}) }
		f.OnConnect = func() { m.post(feedMsg{connect: true, at: time.Now()}) }
		f.OnState = func(s plex.FeedState) {
			if s.Status == plex.FeedConnected {
				return // reported with OnConnect, in order
			}
			m.post(feedMsg{state: &s, at: time.Now()})
		}
		f.OnBadEvent = func(name string, err error) {
			m.badEvents.Add(1)
			m.cfg.Log.Warn("skipped an undecodable event", "server", m.cfg.Server, "event", name, "err", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			feedDone <- f.Run(ctx)
		}()
	} else {
		m.feedUp = true
		m.setConn(Conn{Status: Connected})
	}

	results := make(chan fetchResult, 1)
	reconcile := time.NewTicker(m.cfg.Reconcile)
	defer reconcile.Stop()
	coalesce := time.NewTimer(time.Hour)
	coalesce.Stop()
	// gate holds fetches back: none during a hold after an oversized or
	// "slow down" answer (notBefore), and at most fetchBurst in any
	// fetchBurst × MinFetchInterval (4 a second by default). A flood of
	// events for unknown sessions costs a few fetches, not one each, while
	// a new session after an ordinary moment (one fetch for a terminate's
	// resync, say) is fetched at once.
	gate := time.NewTimer(time.Hour)
	gate.Stop()
	defer gate.Stop()
	hold := time.NewTimer(time.Hour) // publishGap (see the events case)
	hold.Stop()
	defer hold.Stop()
	held := false
	var notBefore time.Time
	var recent [fetchBurst]time.Time         // the last starts, oldest first
	ready := func(now time.Time) time.Time { // when a fetch may start
		at := recent[0].Add(fetchBurst * m.cfg.MinFetchInterval)
		if notBefore.After(at) {
			at = notBefore
		}
		if at.Before(now) {
			return now
		}
		return at
	}
	startFetch := func(trigger time.Time) {
		now := time.Now()
		if at := ready(now); m.fetching || at.After(now) {
			if !m.fetching {
				gate.Reset(at.Sub(now))
			}
			m.again = true
			if m.eventTime.IsZero() {
				m.eventTime = trigger
			}
			return
		}
		m.fetching = true
		m.fetches.Add(1)
		wg.Add(1)
		started := now
		m.lastFetch = started
		copy(recent[:], recent[1:])
		recent[fetchBurst-1] = started
		go func() {
			defer wg.Done()
			items, err := m.cfg.Source.Sessions(ctx)
			var srcs []*plex.Media
			if err == nil {
				srcs = m.sources.For(ctx, items)
			}
			results <- fetchResult{items: items, sources: srcs, err: err, trigger: trigger, started: started}
		}()
	}
	again := func() {
		if m.again && !m.fetching {
			m.again = false
			trig := m.eventTime
			m.eventTime = time.Time{}
			startFetch(trig)
		}
	}
	if m.cfg.Feed == nil {
		startFetch(time.Time{})
	}
	for {
		if m.overflow.Swap(false) {
			startFetch(time.Time{})
		}
		select {
		case <-ctx.Done():
			m.setConn(Conn{Status: Stopped})
			return ctx.Err()
		case err := <-feedDone: // only when ctx ended
			m.setConn(Conn{Status: Stopped})
			return err
		case msg := <-m.events:
			// Handle what is queued behind it too (up to maxBatch), then
			// publish once: when events come faster than snapshots can be
			// made, they share one instead of queueing up behind each other.
			// A lone event is published at once.
		batch:
			for n := 0; ; n++ {
				if trig, ok := m.handle(msg); ok {
					startFetch(trig)
				}
				if m.fatal != nil || n+1 >= maxBatch {
					break
				}
				select {
				case msg = <-m.events:
				default:
					break batch
				}
			}
			// Under load (the last snapshot is younger than publishGap) the
			// changes wait for the gap to pass, gathering those that come
			// meanwhile: at most one snapshot per publishGap, however fast
			// events come. Otherwise they are published now.
			if wait := m.gap() - time.Since(m.lastPublish); m.stagedOK && wait > 0 {
				if !held {
					held = true
					hold.Reset(wait)
				}
			} else {
				m.flush()
			}
			if m.fatal != nil {
				return m.fatal
			}
			if m.dirty {
				coalesce.Reset(m.cfg.Coalesce)
			}
		case <-hold.C:
			held = false
			m.flush()
		case <-coalesce.C:
			if m.dirty {
				m.publish(nil, time.Time{})
			}
		case <-reconcile.C:
			startFetch(time.Time{})
		case <-gate.C:
			again()
		case r := <-results:
			m.fetching = false
			m.merge(r)
			if m.fatal != nil {
				return m.fatal
			}
			if hold := m.holdAfter(r.err); hold > 0 {
				notBefore = time.Now().Add(hold)
				m.cfg.Log.Warn("holding back the next sessions fetch", "server", m.cfg.Server, "for", hold, "err", r.err)
			}
			again()
		}
	}
}

// handle applies one feed message; it reports whether a fetch is needed
// and the event time that triggered it.
func (m *Monitor) handle(msg feedMsg) (time.Time, bool) {
	now := m.cfg.Now()
	switch {
	case msg.leave != nil:
		m.leaving[msg.leave.key] = leaveMark{why: msg.leave.why, until: now.Add(m.cfg.Linger)}
		if s, ok := m.sessions[msg.leave.key]; ok && s.Leaving == "" {
			prev := s
			s.Leaving = msg.leave.why
			m.put(s)
			m.stage([]Change{{Kind: Changed, Session: s, Prev: &prev}}, time.Time{})
		}
		return time.Time{}, false
	case msg.connect:
		m.feedUp, m.accepted = true, true
		c := m.conn
		if c.Status != Connected {
			m.setConn(Conn{Status: Connected, LastEvent: c.LastEvent})
		}
		return time.Time{}, true // resync: Plex does not replay missed events
	case msg.state != nil:
		m.feedUp = false
		s := msg.state
		c := Conn{Status: Reconnecting, NextRetry: s.NextRetry, LastEvent: m.conn.LastEvent}
		if s.Err != nil {
			c.Err = errText(s.Err)
			if errors.Is(s.Err, plex.ErrUnreachable) || errors.Is(s.Err, plex.ErrTimeout) || errors.Is(s.Err, plex.ErrUntrustedCert) {
				c.Status = Unreachable
			}
		}
		switch s.Status {
		case plex.FeedConnecting:
			c = Conn{Status: Connecting}
		case plex.FeedUnauthorized:
			if m.rejectedAtStart(s.Err) {
				return time.Time{}, false
			}
			c = Conn{Status: Unauthorized, Err: TokenRejectedHint, NextRetry: s.NextRetry, LastEvent: m.conn.LastEvent}
		case plex.FeedStopped:
			return time.Time{}, false
		}
		m.setConn(c)
		return time.Time{}, false
	}
	m.conn.LastEvent = now
	ev := msg.ev
	switch {
	case ev.Playing != nil:
		return m.onPlaying(ev.Playing, msg.at, now)
	case ev.Transcode != nil:
		return m.onTranscode(ev.Name, ev.Transcode, msg.at)
	case ev.Name == plex.EventPing:
		m.dirty = true // carries the new LastEvent to the status line, coalesced
	}
	return time.Time{}, false
}

func (m *Monitor) findKey(sessionKey string) (Session, bool) {
	s, ok := m.sessions[m.cfg.Server+"/"+sessionKey]
	return s, ok
}

func (m *Monitor) onPlaying(p *plex.PlayState, at, now time.Time) (time.Time, bool) {
	key := string(p.SessionKey)
	s, known := m.findKey(key)
	if !known && p.State != "stopped" {
		// The player reports it playing again: a stop seen before was not
		// the end (a phantom stop), so a fetch may bring it back.
		delete(m.tombstones, m.cfg.Server+"/"+key)
	}
	if !known {
		// A new session (or one we missed): only /status/sessions has its
		// user, player, title and Session id. A "stopped" for a key not
		// known yet (it started and stopped between two fetches, or a
		// phantom stop under a new key) needs no fetch, but the list may
		// still show the session for a few seconds: it is gone.
		if p.State == "stopped" {
			m.tombstones[m.cfg.Server+"/"+key] = time.Now()
			return time.Time{}, false
		}
		return at, true
	}
	switch {
	case p.State == "stopped":
		m.remove(s)
		m.tombstones[s.Key()] = time.Now()
		if m.fetching {
			m.again = true
		}
		m.stage([]Change{{Kind: Ended, Session: s}}, at)
		return at, true // confirm, and catch a new sessionKey after seek-to-end
	case plex.TranscodeID(p.TranscodeSession) != s.TranscodeKey:
		return at, true // transcode started, stopped or restarted: re-read
	case p.State != "" && p.State != s.State:
		prev := s
		s.State, s.StateSince, s.ViewOffsetMs = p.State, now, int64(p.ViewOffset)
		m.put(s)
		m.localAt[s.Key()] = time.Now()
		if m.fetching {
			m.again = true // the fetch under way may predate this change
		}
		m.stage([]Change{{Kind: Changed, Session: s, Prev: &prev}}, at)
	default:
		if int64(p.ViewOffset) != s.ViewOffsetMs {
			s.ViewOffsetMs = int64(p.ViewOffset)
			m.put(s)
			m.dirty = true
		}
		return at, m.refreshDue()
	}
	return time.Time{}, false
}

// refreshDue reports whether a report of a known session should re-read
// the list: what no event carries (bandwidth) changes too.
func (m *Monitor) refreshDue() bool {
	return m.cfg.Refresh > 0 && !m.fetching && time.Since(m.lastFetch) >= m.cfg.Refresh
}

func (m *Monitor) onTranscode(name string, t *plex.TranscodeSession, at time.Time) (time.Time, bool) {
	id := t.ID()
	var s Session
	found := false
	if k, ok := m.byTranscode[id]; ok && id != "" {
		s, found = m.sessions[k]
	}
	switch {
	case !found:
		if name == plex.EventTranscodeEnd {
			return time.Time{}, false
		}
		return at, true
	case name == plex.EventTranscodeUpdate:
		s.TranscodeSpeed, s.TranscodeProgress, s.Throttled = float64(t.Speed), float64(t.Progress), bool(t.Throttled)
		m.put(s)
		m.dirty = true
		return at, m.refreshDue()
	}
	return at, true
}

// merge applies a fetched session list: sessions not in it ended, new ones
// started, others changed if anything an admin sees differs.
func (m *Monitor) merge(r fetchResult) {
	now := m.cfg.Now()
	if r.err != nil {
		if errors.Is(r.err, context.Canceled) {
			return
		}
		c := m.conn
		c.Err = errText(r.err)
		switch {
		case errors.Is(r.err, plex.ErrUnauthorized):
			if m.rejectedAtStart(r.err) {
				return
			}
			c.Status, c.Err = Unauthorized, TokenRejectedHint
		case errors.Is(r.err, plex.ErrUnreachable), errors.Is(r.err, plex.ErrTimeout), errors.Is(r.err, plex.ErrUntrustedCert):
			c.Status = Unreachable
		}
		m.cfg.Log.Warn("sessions fetch failed", "server", m.cfg.Server, "err", r.err)
		m.setConn(c)
		return
	}
	m.accepted = true
	switch {
	case m.feedUp && m.conn.Status != Connected:
		// A failed fetch marked the server unreachable or the token
		// rejected while the event stream stayed open; this fetch worked,
		// so the server is back (an open stream never says so itself).
		m.conn = Conn{Status: Connected, LastEvent: m.conn.LastEvent, Since: now}
	case m.conn.Err != "" && m.conn.Status == Connected:
		m.conn.Err = ""
	}
	fresh := make(map[string]Session, len(r.items))
	var changes []Change
	for k, mk := range m.leaving {
		if !now.Before(mk.until) {
			delete(m.leaving, k)
		}
	}
	for i := range r.items {
		var src *plex.Media
		if i < len(r.sources) {
			src = r.sources[i]
		}
		s := NewSessionSource(m.cfg.Server, &r.items[i], src, now)
		if s.Kind == plex.KindTheme {
			continue // theme music is not user playback
		}
		k := s.Key()
		if _, dup := fresh[k]; dup {
			continue // listed twice: one row, one rule decision (plex.MergeDuplicates)
		}
		if at, ok := m.tombstones[k]; ok && (r.started.Before(at) || time.Since(at) < m.cfg.Linger) {
			// Ended after this fetch began, or a stopped session Plex
			// still lists for a few seconds: it is gone.
			continue
		}
		if mk, ok := m.leaving[k]; ok {
			s.Leaving = mk.why
		}
		if old, ok := m.sessions[k]; ok {
			if at, ok := m.localAt[k]; ok && r.started.Before(at) {
				// The event is newer than this answer.
				s.State, s.StateSince, s.ViewOffsetMs = old.State, old.StateSince, old.ViewOffsetMs
			}
			s.FirstSeen = old.FirstSeen
			if old.State == s.State {
				s.StateSince = old.StateSince
			}
		}
		fresh[k] = s
	}
	markReplaced(fresh, now, m.cfg.Linger)
	announced := make(map[string]bool, len(fresh))
	for i := range r.items {
		k := sessionKeyOf(m.cfg.Server, &r.items[i])
		s, ok := fresh[k]
		if !ok || announced[k] {
			continue
		}
		announced[k] = true
		if old, ok := m.sessions[k]; !ok {
			changes = append(changes, Change{Kind: Started, Session: s})
		} else if sessionDiffers(old, s) {
			prev := old
			changes = append(changes, Change{Kind: Changed, Session: s, Prev: &prev})
		}
	}
	for k, old := range m.sessions {
		if _, ok := fresh[k]; !ok {
			changes = append(changes, Change{Kind: Ended, Session: old})
		}
	}
	for k, at := range m.tombstones {
		if !r.started.Before(at) && time.Since(at) >= m.cfg.Linger {
			delete(m.tombstones, k)
		}
	}
	for k, at := range m.localAt {
		if !r.started.Before(at) {
			delete(m.localAt, k)
		}
	}
	m.sessions = fresh
	clear(m.byTranscode)
	for k, s := range fresh {
		if s.TranscodeKey != "" {
			m.byTranscode[s.TranscodeKey] = k
		}
	}
	m.rebuild = true
	m.publish(changes, r.trigger)
}

// put stores a changed session whose place in the order (FirstSeen, key)
// and transcode key are unchanged, for the next publish.
func (m *Monitor) put(s Session) {
	k := s.Key()
	if _, ok := m.edits[k]; !ok {
		m.edits[k] = m.sessions[k]
	}
	m.sessions[k] = s
}

// remove forgets a listed session, for the next publish.
func (m *Monitor) remove(s Session) {
	k := s.Key()
	if _, ok := m.edits[k]; !ok {
		m.edits[k] = m.sessions[k]
	}
	delete(m.sessions, k)
	if m.byTranscode[s.TranscodeKey] == k {
		delete(m.byTranscode, s.TranscodeKey)
	}
}

// holdAfter returns how long to hold back the next fetch after a fetch
// that ended with err: nothing after a good answer or an ordinary failure
// (the event stream's backoff paces those), a doubling pause after an
// oversized answer or a 429/503, at least its Retry-After, within HoldMax.
func (m *Monitor) holdAfter(err error) time.Duration {
	if err == nil {
		m.hold = 0
		return 0
	}
	var pe *plex.Error
	if !errors.As(err, &pe) || !(errors.Is(err, plex.ErrTooLarge) || errors.Is(err, plex.ErrRateLimited) || pe.Status == http.StatusServiceUnavailable) {
		return 0
	}
	m.hold = min(max(m.cfg.HoldMin, 2*m.hold), m.cfg.HoldMax)
	return min(max(m.hold, pe.RetryAfter), m.cfg.HoldMax)
}

// rejectedAtStart handles a token rejected before the server ever accepted
// it under RejectAtStart: it publishes the state, sets m.fatal and reports
// true; otherwise it does nothing and reports false.
func (m *Monitor) rejectedAtStart(err error) bool {
	if !m.cfg.RejectAtStart || m.accepted {
		return false
	}
	m.setConn(Conn{Status: Unauthorized, Err: errText(err)})
	m.fatal = fmt.Errorf("server %q: %w", m.cfg.Server, err)
	return true
}

// sessionDiffers reports a change an admin or a rule cares about; play
// position and transcode progress alone are not changes.
func sessionDiffers(a, b Session) bool {
	return a.State != b.State || a.Leaving != b.Leaving || a.SourceResolution != b.SourceResolution ||
		a.SourceVideoCodec != b.SourceVideoCodec || a.BitrateKbps != b.BitrateKbps || a.Decision != b.Decision || a.TranscodeKey != b.TranscodeKey ||
		a.VideoDecision != b.VideoDecision || a.AudioDecision != b.AudioDecision ||
		a.SubtitleDecision != b.SubtitleDecision || a.ID != b.ID || a.BandwidthKbps != b.BandwidthKbps ||
		a.Player != b.Player || a.User != b.User || a.Title != b.Title
}

func (m *Monitor) setConn(c Conn) {
	if c.LastEvent.IsZero() {
		c.LastEvent = m.conn.LastEvent
	}
	if c.Status != m.conn.Status {
		c.Since = m.cfg.Now()
	} else {
		c.Since = m.conn.Since
	}
	m.conn = c
	m.publish(nil, time.Time{})
}

// publish builds and hands out a new immutable snapshot. After events it
// costs one copy of the list and O(log N) per edited session; after a
// fetch, a sort. Update.Delta and Touched tell subscribers which sessions
// differ from the previous snapshot, so they need not look at the rest.
func (m *Monitor) publish(changes []Change, eventTime time.Time) {
	m.lastPublish = time.Now()
	if m.stagedOK {
		changes = append(m.staged, changes...)
		if eventTime.IsZero() || (!m.stagedAt.IsZero() && m.stagedAt.Before(eventTime)) {
			eventTime = m.stagedAt
		}
		m.staged, m.stagedAt, m.stagedOK = nil, time.Time{}, false
	}
	m.dirty = false
	m.seq++
	delta := !m.rebuild
	var touched []Session
	switch {
	case m.rebuild || !m.patch(&touched):
		m.list = sortedSessions(m.sessions)
		touched, delta = nil, false
	}
	m.rebuild = false
	clear(m.edits)
	snap := &Snapshot{Server: m.cfg.Server, URL: *m.url.Load(), Demo: m.cfg.Demo, Sessions: m.list, Conn: m.conn, Seq: m.seq, Time: m.cfg.Now()}
	m.last.Store(snap)
	up := Update{Snapshot: snap, Changes: changes, Event: eventTime, Delta: delta, Touched: touched}
	for _, fn := range m.subs {
		fn(up)
	}
	m.publishCost = time.Since(m.lastPublish)
}

// gap is the least time between two snapshots made for events: gapFactor
// times the last one's cost, at most publishGap.
func (m *Monitor) gap() time.Duration {
	return min(publishGap, gapFactor*m.publishCost)
}

// stage records changes applied from an event (at: its arrival) for the
// next publish; flush publishes them.
func (m *Monitor) stage(changes []Change, at time.Time) {
	m.staged = append(m.staged, changes...)
	if !at.IsZero() && (m.stagedAt.IsZero() || at.Before(m.stagedAt)) {
		m.stagedAt = at
	}
	m.stagedOK = true
}

// flush publishes the staged changes, if any.
func (m *Monitor) flush() {
	if m.stagedOK {
		m.publish(nil, time.Time{})
	}
}

// patch makes m.list the published list with m.edits applied: a new slice
// (the old one belongs to a published snapshot), each edited session
// found by binary search and replaced or dropped. It returns the changed
// sessions still listed through touched, or false when an edit is not
// where the order says (then the caller sorts).
func (m *Monitor) patch(touched *[]Session) bool {
	if len(m.edits) == 0 {
		return true // nothing moved: the snapshot shares the list
	}
	at := make([]int, 0, len(m.edits))
	for _, old := range m.edits {
		i, ok := slices.BinarySearchFunc(m.list, old, compareSessions)
		if !ok {
			return false
		}
		at = append(at, i)
	}
	slices.Sort(at)
	list := make([]Session, 0, len(m.list))
	from := 0
	for _, i := range at {
		list = append(list, m.list[from:i]...)
		from = i + 1
		if s, ok := m.sessions[m.list[i].Key()]; ok {
			list = append(list, s)
			*touched = append(*touched, s)
		}
	}
	m.list = append(list, m.list[from:]...)
	return true
}

// sortedSessions returns the sessions sorted by FirstSeen, then Key.
func sortedSessions(sessions map[string]Session) []Session {
	all := make([]Session, 0, len(sessions))
	for _, s := range sessions {
		all = append(all, s)
	}
	// Sort positions, not the sessions (hundreds of bytes each), then
	// place each once.
	idx := make([]int32, len(all))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return compareSessions(all[a], all[b]) })
	list := make([]Session, len(all))
	for i, j := range idx {
		list[i] = all[j]
	}
	return list
}

// compareSessions orders sessions as a Snapshot lists them: by FirstSeen,
// then Key, without building the keys.
func compareSessions(a, b Session) int {
	if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
		return c
	}
	if a.Server != b.Server {
		return strings.Compare(a.Key(), b.Key())
	}
	// Key is Server + "/" + SessionKey, or Server + "/id:" + ID.
	ak, bk := a.SessionKey, b.SessionKey
	switch {
	case ak != "" && bk != "":
		return strings.Compare(ak, bk)
	case ak == "" && bk == "":
		return strings.Compare(a.ID, b.ID)
	}
	return strings.Compare(a.Key(), b.Key())
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	var pe *plex.Error
	if errors.As(err, &pe) {
		if pe.Detail != "" {
			return pe.Err.Error() + ": " + pe.Detail
		}
		return pe.Err.Error()
	}
	return err.Error()
}

// markReplaced marks, for each player listed with several sessions, all but
// the newest as leaving: a player plays one thing at a time, and one that
// moved to the next episode or replayed after a kill message leaves its
// old session listed for a few seconds. The mark holds while the newer
// session is younger than linger; after that, sessions still sharing a
// player are counted as they are (a collision the diagnostics report).
func markReplaced(fresh map[string]Session, now time.Time, linger time.Duration) {
	newest := map[string]Session{}
	for _, s := range fresh {
		id := s.Player.MachineIdentifier
		if id == "" || s.Leaving != "" {
			continue
		}
		if n, ok := newest[id]; !ok || newer(s, n) {
			newest[id] = s
		}
	}
	for k, s := range fresh {
		id := s.Player.MachineIdentifier
		n, ok := newest[id]
		if id == "" || s.Leaving != "" || !ok || n.Key() == s.Key() || now.Sub(n.FirstSeen) >= linger {
			continue
		}
		s.Leaving = LeavingReplaced
		fresh[k] = s
	}
}

// newer reports whether a started after b: first seen later, else the
// higher sessionKey (Plex numbers sessions in order).
func newer(a, b Session) bool {
	if !a.FirstSeen.Equal(b.FirstSeen) {
		return a.FirstSeen.After(b.FirstSeen)
	}
	ak, bk := a.Seq(), b.Seq()
	if ak != bk {
		return ak > bk
	}
	return a.Key() > b.Key()
}

// sessionKeyOf is Session.Key of an item without building the Session.
func sessionKeyOf(server string, m *plex.Metadata) string {
	if m.SessionKey != "" {
		return server + "/" + string(m.SessionKey)
	}
	id := ""
	if m.Session != nil {
		id = string(m.Session.ID)
	}
	return server + "/id:" + id
}
