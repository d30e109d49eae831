package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
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
// most 10), and each costs a pass of every subscriber (and, before the
// list was shared in chunks, a copy of it): at 2,000 sessions × 500
// changes/s, a 4 ms gap used 56–64 % of a core, 10 ms 39–43 %
// (docs/BENCHMARKS.md), for a few ms more lag.
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
	list sessionList
	// edits are the sessions changed or removed since list was published,
	// by key, as list has them: publish patches them in (O(log N) to find
	// each, a copy of its chunk) instead of sorting every session again.
	// Events never move a session in the order (its FirstSeen and key stay).
	edits map[string]Session
	// rebuild: the session set changed wholesale (a fetch, which set list
	// to the new sorted list itself): the next update is not a delta.
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
	// listed: the fetch under way has delivered its list and goes on
	// reading the sources of new transcodes (fetchResult.reading).
	listed bool
	// awaiting are the sessions and transcodes that
	// events named while a fetch was under way, before its list came, with
	// the events' arrival: the list settles them (settle) and only those it
	// lacks need one more fetch.
	awaiting  map[awaited]time.Time
	again     bool
	eventTime time.Time // arrival of the event that triggered the pending fetch
	dirty     bool      // unpublished position/progress updates
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

// awaited is a session (Session.Key) or, with transcode set, a transcode
// (its id) that an event named while a fetch was under way.
type awaited struct {
	key       string
	transcode bool
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
	// reading are the ratingKeys whose library items are being read: the
	// list is published without their sources (Session.SourcePending),
	// and a second result, with enrich set, brings them.
	reading map[string]bool
	enrich  bool
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
		leaving: map[string]leaveMark{}, sources: NewSources(cfg.Metadata, nil), edits: map[string]Session{}, byTranscode: map[string]string{},
		awaiting: map[awaited]time.Time{}}
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
			r := fetchResult{items: items, err: err, trigger: trigger, started: started}
			var missing []string
			if err == nil {
				r.sources, missing = m.sources.Known(items)
			}
			if len(missing) > 0 {
				// The list first, the sources when the library has
				// answered: rules that do not judge the source act
				// without waiting for that round trip.
				r.reading = make(map[string]bool, len(missing))
				for _, rk := range missing {
					r.reading[rk] = true
				}
			}
			select {
			case results <- r:
			case <-ctx.Done():
				return
			}
			if r.reading == nil {
				return
			}
			m.sources.Read(ctx, missing)
			full := slices.Clone(r.sources) // r.sources is the monitor's now
			m.sources.Fill(items, full)
			select {
			case results <- fetchResult{items: items, sources: full, reading: r.reading, enrich: true, trigger: trigger, started: started}:
			case <-ctx.Done():
			}
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
			if r.enrich {
				m.enrich(r)
			} else {
				m.merge(r)
				m.settle()
			}
			if m.fatal != nil {
				return m.fatal
			}
			if r.reading != nil && !r.enrich {
				m.listed = true // the sources come next
				break
			}
			m.fetching, m.listed = false, false
			if hold := m.holdAfter(r.err); hold > 0 {
				notBefore = time.Now().Add(hold)
				m.cfg.Log.Warn("holding back the next sessions fetch", "server", m.cfg.Server, "for", hold, "err", r.err)
			}
			again()
		}
	}
}
