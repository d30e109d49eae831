package rules

import (
	"context"
	"log/slog"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
)

// Actor carries out actions on live sessions; *app.Hub implements it.
type Actor interface {
	// Terminate stops s, showing message on the player.
	Terminate(ctx context.Context, s app.Session, message string) app.Result
	// StopTranscode kills the transcode of s.
	StopTranscode(ctx context.Context, s app.Session) app.Result
	// Find returns the live session with key (app.Session.Key) from the
	// latest snapshots.
	Find(key string) (app.Session, bool)
}

// Recorder stores history records; *history.Store implements it.
type Recorder interface {
	Append(history.Record) error
}

// Defaults of Options.
const (
	// DefaultVerifyAfter is how long a terminated session may stay listed
	// before the engine escalates. It is longer than one player timeline
	// interval (10 s; docs/plex-api.md §3.4, §6.3) because the terminate
	// reaches the player in its next timeline reply: escalating sooner
	// would break playback before the viewer sees the message. Sessions
	// that end sooner are confirmed at once.
	DefaultVerifyAfter = 15 * time.Second
	// DefaultActionTimeout bounds one terminate or stop-transcode call.
	DefaultActionTimeout = 30 * time.Second
	// DefaultRetryAfter is how long after a terminate or stop-transcode
	// that failed for a reason that may pass (a server error, no answer,
	// the server unreachable, the token rejected) the rule acts again on a
	// stream that still matches. Without it one lost answer would leave
	// the stream playing for good: a rule acts at most once per stream.
	DefaultRetryAfter = 10 * time.Second
	// noIDWait is how long a terminate without a Session id waits for the
	// resync that may bring one (docs/plex-api.md §6.3 step 1).
	noIDWait = 2 * time.Second
	// forgetAfter is how long the engine remembers acting on a session
	// after it was last seen.
	forgetAfter = 10 * time.Minute
)

// Outcomes the engine records besides app's (done, already gone, Plex Pass
// required, dry run, …).
const (
	OutcomeLogged         = "logged"          // a log-only rule matched
	OutcomeNotified       = "notified"        // a notify-only rule matched
	OutcomeGone           = "gone"            // verify: the session ended
	OutcomeZombie         = "zombie"          // verify: still playing; the engine gives up on it
	OutcomeNotTranscoding = "not transcoding" // stopTranscode on a session without a transcode
)

// Action names in history records besides the rule actions.
const (
	HistoryVerify = "verify" // the check after a terminate
)

// Options configures an Engine. Only Actor is required.
type Options struct {
	Actor   Actor    // carries out terminate and stop-transcode (the hub)
	History Recorder // nil: no history
	// Notify shows a desktop notification (rule matches for notify-only
	// rules, terminate results, refusals, zombies). It is called from the
	// engine's goroutines and must not block for long. nil: none.
	Notify func(app.Notification)
	// Clock is the time for rules (pauses, time windows, grace). Default time.Now.
	Clock func() time.Time
	// Location is the time zone of time windows; default time.Local.
	Location *time.Location
	Log      *slog.Logger // default: discard
	// VerifyAfter: see DefaultVerifyAfter.
	VerifyAfter time.Duration
	// ActionTimeout: see DefaultActionTimeout.
	ActionTimeout time.Duration
	// RetryAfter: see DefaultRetryAfter.
	RetryAfter time.Duration
	// Diag answers diagnostic rules (storms, collisions); nil: they never match.
	Diag DiagSource
	// StateDir is where the cool-downs (BlocksFile) and the quota time
	// used (UsageFile) are kept across restarts, usually the
	// configuration directory; "": in memory only.
	StateDir string
}

// Engine applies rules to monitor updates. Create it with NewEngine, feed
// it with Observe (register it with app.Hub.OnUpdate), and run Run for its
// timers (grace delays, paused-too-long, time windows, verification). Its
// methods are safe for concurrent use.
type Engine struct {
	opts   Options
	ctx    context.Context // cancelled by Close: aborts actions in flight
	cancel context.CancelFunc
	kick   chan struct{} // Run recomputes its timer
	done   chan struct{} // closed by Close
	wg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	file      File
	rules     []*compiled
	paused    bool
	servers   []string
	snaps     map[string]*app.Snapshot
	updated   map[string]chan struct{} // closed at the server's next Observe (waiters only)
	acted     map[actKey]time.Time     // rule × session: acted on (at most once)
	claimed   map[string]time.Time     // sessions a rule terminated: no other rule terminates them again
	seen      map[string]time.Time     // last time each acted-on session was live
	pending   map[actKey]*pending      // waiting out a grace delay
	verifying map[string]*verification // terminated, waiting to be confirmed gone
	problems  map[string]string        // server → refusal in words (Plex Pass, not admin)
	wakeAt    time.Time                // a time-based change the rules expect
	lastPrune time.Time
	inc       *incIndex // the live sessions, followed from Delta updates (incremental.go)
	// fullOnly makes every pass read the live sessions whole (tests and
	// benchmarks compare the incremental pass with it).
	fullOnly bool
	// passed, when set (tests), sees the jobs of every pass and whether
	// it was incremental.
	passed func(jobs []job, incremental bool)

	stateMu     sync.Mutex           // serializes writes of the state files
	blocks      []*Block             // cool-downs (some may have ended)
	blocksDirty bool                 // an ended cool-down was dropped: save
	retryAt     map[actKey]time.Time // cool-down × stream: enforce again then (a terminate failed)
	// quota counts (quotacount.go): the time used as stored (up to
	// live's at), what makes it grow, the streams counted as playing
	usage      map[usageKey]*QuotaUsage
	live       map[usageKey]*quotaLive
	counted    map[actKey]userID    // quota rule × stream counted as playing: its user
	seenTime   time.Duration        // the seen clock: the time counted for a stream playing throughout
	seenStep   time.Duration        // what the last pass added to it
	lastLook   time.Time            // the last pass
	quotaMarks map[string]quotaMark // quota rule → its period and schedule at the last pass
	accountAt  time.Time            // count again then (streams are playing)
	usageDirty bool
	flushSoon  bool // a counted stream stopped: save the counts now
	lastFlush  time.Time
}

type actKey struct{ rule, session string }

type pending struct {
	due     time.Time
	trigger time.Time
	// retry is the action that failed for a reason that may pass
	// (retryLater); nil for a grace delay.
	retry *job
}

// job is one action to carry out.
type job struct {
	rule    *compiled
	s       app.Session
	reason  string
	message string
	dryRun  bool      // global dry run
	trigger time.Time // real time the triggering event reached us
	blockOf string    // the rule whose cool-down stops this stream; ""
	note    string    // a quota warning to give instead of an action
	// gone: the stream of a failed action ended before its retry; the job
	// only records that (with this detail), nothing is sent.
	gone string
}

// NewEngine returns an engine without rules; call SetRules.
func NewEngine(opts Options) *Engine {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.VerifyAfter <= 0 {
		opts.VerifyAfter = DefaultVerifyAfter
	}
	if opts.ActionTimeout <= 0 {
		opts.ActionTimeout = DefaultActionTimeout
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = DefaultRetryAfter
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{
		opts: opts, ctx: ctx, cancel: cancel,
		kick: make(chan struct{}, 1), done: make(chan struct{}),
		file: File{Version: Version}, snaps: map[string]*app.Snapshot{}, updated: map[string]chan struct{}{},
		acted: map[actKey]time.Time{}, claimed: map[string]time.Time{}, seen: map[string]time.Time{},
		pending: map[actKey]*pending{}, verifying: map[string]*verification{}, problems: map[string]string{},
		usage: map[usageKey]*QuotaUsage{}, live: map[usageKey]*quotaLive{}, counted: map[actKey]userID{}, quotaMarks: map[string]quotaMark{},
		retryAt: map[actKey]time.Time{},
	}
	e.inc = newIncIndex(e.acted)
	e.loadBlocks()
	e.loadUsage()
	e.lastFlush = e.now()
	return e
}

func (e *Engine) now() time.Time { return e.opts.Clock().In(e.opts.Location) }

// SetRules replaces the rules (and the global dry-run switch). An invalid
// file is refused with a *FileError and the old rules stay. The new rules
// apply at once to the sessions playing now. What an unchanged rule already
// acted on is remembered (by rule name); a changed rule, or every rule when
// the dry-run switch changes, starts afresh, so switching a dry run off
// acts on the sessions it only logged. A session is still never
// terminated twice.
func (e *Engine) SetRules(f File) error {
	if err := f.Validate(); err != nil {
		return err
	}
	cs := make([]*compiled, 0, len(f.Rules))
	for _, r := range f.Rules {
		c, err := compile(r)
		if err != nil {
			return err // Validate passed, so this cannot happen
		}
		c.diag, c.usage = e.opts.Diag, e.usedLocked
		cs = append(cs, c)
	}
	f.Rules = append([]Rule(nil), f.Rules...)
	e.mu.Lock()
	old := map[string]Rule{}
	for _, c := range e.rules {
		old[c.Name] = c.Rule
	}
	fresh := map[string]bool{}
	for _, c := range cs {
		if prev, ok := old[c.Name]; !ok || f.DryRun != e.file.DryRun || !reflect.DeepEqual(prev, c.Rule) {
			fresh[c.Name] = true
		}
	}
	for k := range e.acted {
		if fresh[k.rule] {
			delete(e.acted, k)
		}
	}
	e.file, e.rules = f, cs
	e.inc.setRules(cs)
	jobs := e.evaluateLocked(e.now(), time.Now())
	e.mu.Unlock()
	e.launch(jobs)
	return nil
}

// Rules returns the rules in force.
func (e *Engine) Rules() File {
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.file
	f.Rules = append([]Rule(nil), f.Rules...)
	return f
}

// SetPaused switches every rule off (true) or back on. Pending grace
// delays are dropped when pausing; resuming applies the rules at once.
// Verifications of earlier terminates go on.
func (e *Engine) SetPaused(paused bool) {
	e.mu.Lock()
	e.paused = paused
	jobs := e.evaluateLocked(e.now(), time.Now())
	e.mu.Unlock()
	e.launch(jobs)
}

// Paused reports whether the rules are paused.
func (e *Engine) Paused() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.paused
}

// Status is the engine's state in brief, for a status line.
type Status struct {
	Paused    bool // the global pause switch is on
	DryRun    bool // the global dry run is on
	Rules     int  // rules in the file
	Enabled   int  // rules switched on
	Pending   int  // sessions waiting out a grace delay
	Verifying int  // terminated sessions not yet confirmed gone
	Blocks    int  // cool-downs in force (Blocks)
	// Problem is a refusal to terminate in words, e.g. "home: the server
	// refused: terminating sessions needs an active Plex Pass…"; "" when none.
	Problem string
}

// Status returns the engine's state.
func (e *Engine) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := Status{Paused: e.paused, DryRun: e.file.DryRun, Rules: len(e.rules), Pending: len(e.pending), Verifying: len(e.verifying)}
	for _, c := range e.rules {
		if c.Enabled {
			st.Enabled++
		}
	}
	now := e.now()
	for _, b := range e.blocks {
		if now.Before(b.Until) {
			st.Blocks++
		}
	}
	var ps []string
	for _, srv := range e.servers {
		if p := e.problems[srv]; p != "" {
			ps = append(ps, srv+": "+p)
		}
	}
	st.Problem = strings.Join(ps, "; ")
	return st
}

// launch runs jobs, each on its own goroutine, and tells Run that the
// timers may have changed.
func (e *Engine) launch(jobs []job) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.wg.Add(len(jobs))
	e.mu.Unlock()
	select {
	case e.kick <- struct{}{}:
	default:
	}
	for _, j := range jobs {
		go e.act(j)
	}
	if len(jobs) > 0 {
		// Let the actions start now, on this thread, rather than after
		// the rest of the update (other subscribers, the next fetch) or
		// once another thread has woken up to take them: the terminate's
		// request leaves a fraction of a millisecond sooner. (Run, woken
		// by the kick above, waits behind them.)
		runtime.Gosched()
	}
}

// goTracked runs fn on a goroutine Close waits for; false once closed.
func (e *Engine) goTracked(fn func()) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		fn()
	}()
	return true
}

// Run runs the engine's timers (grace delays, pauses growing too long,
// time windows, verification deadlines) until ctx ends or Close is called,
// then closes the engine. It always returns nil.
func (e *Engine) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		e.mu.Lock()
		next := e.nextWakeLocked()
		e.mu.Unlock()
		d := time.Hour
		if !next.IsZero() {
			d = max(next.Sub(e.now()), 0)
		}
		timer.Reset(d)
		select {
		case <-ctx.Done():
			e.Close()
			return nil
		case <-e.done:
			return nil
		case <-e.kick:
		case <-timer.C:
			e.tick()
		}
		e.flushState(false)
	}
}

func (e *Engine) nextWakeLocked() time.Time {
	t := e.wakeAt
	for _, p := range e.pending {
		t = earliest(t, p.due)
	}
	for _, v := range e.verifying {
		t = earliest(t, v.deadline)
	}
	t = earliest(t, e.accountAt)
	if e.usageDirty && e.opts.StateDir != "" {
		t = earliest(t, e.lastFlush.Add(FlushEvery))
	}
	return t
}

// tick handles what is due: verification deadlines, grace delays and
// time-based rule changes.
func (e *Engine) tick() {
	now := e.now()
	e.mu.Lock()
	var due []*verification
	for id, v := range e.verifying {
		if !now.Before(v.deadline) {
			due = append(due, v)
			delete(e.verifying, id)
		}
	}
	jobs := e.evaluateLocked(now, time.Now())
	e.mu.Unlock()
	for _, v := range due {
		e.goTracked(func() { e.checkStillThere(v) })
	}
	e.launch(jobs)
}

// Close stops the timers, aborts actions in flight and waits for the
// engine's goroutines. Observe does nothing afterwards. It is idempotent.
func (e *Engine) Close() {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.done)
	}
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
	e.flushState(true)
}
