// Package rules is Plex Warden's automatic enforcement: rules that
// terminate (or stop the transcode of, notify about, or only log) the
// sessions an admin does not want, with a message that fits the viewer's
// player.
//
// The package has three parts:
//
//   - the rules file (File, Rule, Load, Save, Kinds): JSON in the user's
//     configuration directory, documented in docs/RULES.md;
//   - pure evaluation (Evaluate, RenderMessage, Hint, PlayerFamily): what
//     the rules would do to a given state, for the GUI's preview;
//   - the Engine, which watches monitor updates (Observe), acts within
//     milliseconds of the event that made a session match, waits out grace
//     delays, verifies that terminated sessions are gone, escalates to
//     stopping the transcode when a player ignores the terminate, and writes
//     every action to the history.
//
// Package rules imports app; app never imports rules. main.go wires them:
//
//	engine := rules.NewEngine(rules.Options{Actor: hub, History: hist, Notify: notify})
//	hub.OnUpdate(engine.Observe)
//	go engine.Run(ctx)
package rules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/internal/words"
	"github.com/plexwarden/plexwarden/plex"
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
}

type actKey struct{ rule, session string }

type pending struct {
	due     time.Time
	trigger time.Time
}

// verification is a terminated session waiting to be confirmed gone.
type verification struct {
	j        job
	s        app.Session
	stage    int // 1 after terminate, 2 after stopping the transcode
	deadline time.Time
	since    time.Time // real time of the action being verified
}

// job is one action to carry out.
type job struct {
	rule    *compiled
	s       app.Session
	reason  string
	message string
	dryRun  bool      // global dry run
	trigger time.Time // real time the triggering event reached us
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
	return &Engine{
		opts: opts, ctx: ctx, cancel: cancel,
		kick: make(chan struct{}, 1), done: make(chan struct{}),
		file: File{Version: Version}, snaps: map[string]*app.Snapshot{}, updated: map[string]chan struct{}{},
		acted: map[actKey]time.Time{}, claimed: map[string]time.Time{}, seen: map[string]time.Time{},
		pending: map[actKey]*pending{}, verifying: map[string]*verification{}, problems: map[string]string{},
	}
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
		c.diag = e.opts.Diag
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
	var ps []string
	for _, srv := range e.servers {
		if p := e.problems[srv]; p != "" {
			ps = append(ps, srv+": "+p)
		}
	}
	st.Problem = strings.Join(ps, "; ")
	return st
}

// PreviewItem is one session a rule would act on now.
type PreviewItem struct {
	Rule    string      // rule name
	Session app.Session // the session as in the state given
	Action  Action      // what the rule would do
	Message string      // exactly what the player would show (terminate)
	Reason  string      // why the rule matches, in words
	DryRun  bool        // the global dry run or a log-only rule: nothing would be sent
	// Grace is how long the rule waits before acting.
	Grace time.Duration
	// Done: the rule already acted on this session (engine previews only).
	Done bool
}

// Evaluate returns what the enabled rules of f would do to the sessions of
// st at now, rule by rule in file order, ignoring grace delays and the
// pause switch. It is pure: the GUI previews unsaved rules with it.
func Evaluate(f File, st *app.State, now time.Time) ([]PreviewItem, error) {
	return EvaluateWith(f, st, now, nil)
}

// EvaluateWith is Evaluate with a source for diagnostic rules' conditions.
func EvaluateWith(f File, st *app.State, now time.Time, diag DiagSource) ([]PreviewItem, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var sessions []app.Session
	if st != nil {
		sessions = st.Sessions()
	}
	var out []PreviewItem
	for _, r := range f.Rules {
		if !r.Enabled {
			continue
		}
		c, err := compile(r)
		if err != nil {
			return nil, err
		}
		c.diag = diag
		hits, _ := c.evaluate(sessions, now, nil)
		for _, h := range hits {
			s := sessions[h.i]
			reason := c.reasonOf(h, &s, now)
			out = append(out, PreviewItem{
				Rule: c.Name, Session: s, Action: c.Action, Message: render(c.Rule, s, reason), Reason: reason,
				DryRun: f.DryRun || c.Action == ActionLog, Grace: c.Grace.Std(),
			})
		}
	}
	return out, nil
}

// Preview lists which sessions of st each rule in force would act on right
// now, with the exact message, marking those already acted on.
func (e *Engine) Preview(st *app.State) []PreviewItem {
	e.mu.Lock()
	f := e.file
	e.mu.Unlock()
	items, err := EvaluateWith(f, st, e.now(), e.opts.Diag)
	if err != nil {
		return nil // SetRules only accepts valid files
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range items {
		_, items[i].Done = e.acted[actKey{items[i].Rule, ident(items[i].Session)}]
	}
	return items
}

// ident names one stream for "acted on at most once": its sessionKey (or
// Session id when there is no sessionKey) plus the player's id. Not the
// Session id alone: a session listed first without one (docs/plex-api.md
// §6.3) must stay the same stream when the id appears.
func ident(s app.Session) string {
	return s.Key() + "|" + s.Player.MachineIdentifier
}

// sameStream reports whether a and b (same Key) are the same playback, not
// a sessionKey reused by another stream.
func sameStream(a, b app.Session) bool {
	if a.ID != "" && b.ID != "" {
		return a.ID == b.ID
	}
	return a.Player.MachineIdentifier == b.Player.MachineIdentifier
}

// Observe takes a monitor update. It runs on the monitor's goroutine and
// returns at once: it evaluates the rules (cheap) and hands actions to
// goroutines of its own, so a session with grace 0 is acted on within the
// update that made it match.
func (e *Engine) Observe(up app.Update) {
	sn := up.Snapshot
	if sn == nil {
		return
	}
	trigger := up.Event
	if trigger.IsZero() {
		trigger = time.Now()
	}
	now := e.now()
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	if _, ok := e.snaps[sn.Server]; !ok {
		e.servers = append(e.servers, sn.Server)
	}
	e.snaps[sn.Server] = sn
	if ch, ok := e.updated[sn.Server]; ok {
		close(ch)
		delete(e.updated, sn.Server)
	}
	gone := e.confirmGoneLocked(sn)
	jobs := e.evaluateLocked(now, trigger)
	e.mu.Unlock()
	for _, v := range gone {
		e.recordGone(v)
	}
	e.launch(jobs)
}

// confirmGoneLocked ends the verifications of sessions the snapshot no
// longer lists.
func (e *Engine) confirmGoneLocked(sn *app.Snapshot) []*verification {
	var gone []*verification
	for id, v := range e.verifying {
		if v.s.Server != sn.Server {
			continue
		}
		if _, ok := find(sn.Sessions, v.s); !ok {
			gone = append(gone, v)
			delete(e.verifying, id)
		}
	}
	return gone
}

func find(list []app.Session, s app.Session) (app.Session, bool) {
	for _, x := range list {
		if x.Key() == s.Key() && sameStream(x, s) {
			return x, true
		}
	}
	return app.Session{}, false
}

// liveSessionsLocked returns the sessions of connected servers: stale
// lists of lost servers are not acted on. The result is read-only (with one
// server it is that snapshot's own slice).
func (e *Engine) liveSessionsLocked() []app.Session {
	var live []*app.Snapshot
	n := 0
	for _, srv := range e.servers {
		if sn := e.snaps[srv]; sn != nil && sn.Conn.Status == app.Connected {
			live = append(live, sn)
			n += len(sn.Sessions)
		}
	}
	if len(live) == 1 {
		return live[0].Sessions
	}
	out := make([]app.Session, 0, n)
	for _, sn := range live {
		out = append(out, sn.Sessions...)
	}
	return out
}

// evaluateLocked applies the rules to the live sessions: it starts grace
// delays, drops those whose session stopped matching, and returns the
// actions due now (marked as acted).
func (e *Engine) evaluateLocked(now, trigger time.Time) []job {
	if e.closed {
		return nil
	}
	sessions := e.liveSessionsLocked()
	e.pruneLocked(now, sessions)
	if e.paused || len(e.rules) == 0 {
		clear(e.pending)
		e.wakeAt = time.Time{}
		return nil
	}
	var jobs []job
	var wake time.Time
	var matched map[actKey]bool
	ids := make([]string, len(sessions)) // ident of each session, made once when needed
	// A stream a rule is terminating (now or before) is leaving: the
	// counting kinds, evaluated after the others, do not count it.
	claimed := func(i int) bool {
		if len(e.claimed) == 0 {
			return false
		}
		if ids[i] == "" {
			ids[i] = ident(sessions[i])
		}
		_, ok := e.claimed[ids[i]]
		return ok
	}
	for _, c := range countingLast(e.rules) {
		if !c.Enabled {
			continue
		}
		hits, w := c.evaluate(sessions, now, claimed)
		wake = earliest(wake, w)
		for _, h := range hits {
			if ids[h.i] == "" {
				ids[h.i] = ident(sessions[h.i])
			}
			id := ids[h.i]
			k := actKey{c.Name, id}
			if _, done := e.acted[k]; done {
				continue
			}
			terminates := c.Action == ActionTerminate && !e.file.DryRun
			if _, ok := e.claimed[id]; ok && terminates {
				continue // another rule terminated it already; never twice
			}
			if matched == nil {
				matched = map[actKey]bool{}
			}
			matched[k] = true
			trig := trigger
			if p, ok := e.pending[k]; ok {
				if now.Before(p.due) {
					wake = earliest(wake, p.due)
					continue
				}
				delete(e.pending, k)
				trig = p.trigger
			} else if c.Grace > 0 {
				due := now.Add(c.Grace.Std())
				e.pending[k] = &pending{due: due, trigger: trigger}
				wake = earliest(wake, due)
				continue
			}
			e.acted[k] = now
			e.seen[id] = now
			if terminates {
				e.claimed[id] = now
			}
			s := sessions[h.i]
			reason := c.reasonOf(h, &s, now)
			jobs = append(jobs, job{rule: c, s: s, reason: reason, message: render(c.Rule, s, reason), dryRun: e.file.DryRun, trigger: trig})
		}
	}
	for k := range e.pending {
		if !matched[k] {
			e.opts.Log.Info("rule no longer matches after its grace delay began; nothing done", "rule", k.rule, "session", k.session)
			delete(e.pending, k)
		}
	}
	e.wakeAt = wake
	return jobs
}

// countingLast returns rules with the counting kinds (streams per user,
// transcodes per server) after the others, each group in file order, so
// that a count never includes a stream another rule stops in the same
// pass.
func countingLast(rules []*compiled) []*compiled {
	n := 0
	for _, c := range rules {
		if c.Kind == KindUserStreams || c.Kind == KindServerTranscodes {
			n++
		}
	}
	if n == 0 || n == len(rules) {
		return rules
	}
	out := make([]*compiled, 0, len(rules))
	for _, c := range rules {
		if c.Kind != KindUserStreams && c.Kind != KindServerTranscodes {
			out = append(out, c)
		}
	}
	for _, c := range rules {
		if c.Kind == KindUserStreams || c.Kind == KindServerTranscodes {
			out = append(out, c)
		}
	}
	return out
}

// pruneLocked forgets sessions acted on that have not been live for a while.
func (e *Engine) pruneLocked(now time.Time, live []app.Session) {
	if len(e.seen) == 0 {
		return
	}
	if now.Sub(e.lastPrune) < time.Minute {
		return
	}
	e.lastPrune = now
	for i := range live {
		id := ident(live[i])
		if _, ok := e.seen[id]; ok {
			e.seen[id] = now // still playing: remember it
		}
	}
	for id, at := range e.seen {
		if _, v := e.verifying[id]; v || now.Sub(at) < forgetAfter {
			continue
		}
		delete(e.seen, id)
		delete(e.claimed, id)
		for k := range e.acted {
			if k.session == id {
				delete(e.acted, k)
			}
		}
	}
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
	for _, j := range jobs {
		go e.act(j)
	}
	select {
	case e.kick <- struct{}{}:
	default:
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
}

// act carries out one job.
func (e *Engine) act(j job) {
	defer e.wg.Done()
	c := j.rule
	rec := e.record(j, j.s)
	switch {
	case j.dryRun || c.Action == ActionLog:
		rec.DryRun = true
		rec.Outcome = string(app.OutcomeDryRun)
		if !j.dryRun {
			rec.Outcome = OutcomeLogged
		}
		rec.LatencyMs = ms(time.Since(j.trigger))
		rec.Detail = "would " + string(c.Action)
		if c.Action == ActionLog {
			rec.Detail = "log-only rule"
		}
		e.write(rec)
	case c.Action == ActionNotify:
		e.notify(app.Notification{Kind: app.NotifyTerminated, Title: fmt.Sprintf("Rule %q: %s", c.Name, what(j.s)), Body: words.Capitalize(j.reason) + "."})
		rec.Outcome, rec.LatencyMs = OutcomeNotified, ms(time.Since(j.trigger))
		e.write(rec)
	case c.Action == ActionStopTranscode:
		rec.Message = ""
		if j.s.TranscodeKey == "" {
			rec.Outcome = OutcomeNotTranscoding
			e.write(rec)
			return
		}
		rec.Intent = e.intend(rec)
		res := e.stopTranscode(j.s)
		rec.Outcome, rec.Detail, rec.LatencyMs = string(res.Outcome), errText(res), ms(time.Since(j.trigger))
		e.write(rec)
		e.notifyResult(j, "Transcode stopped", "Could not stop the transcode", res)
		if transient(res) {
			e.retryLater(j)
		}
	default:
		e.terminate(j)
	}
}

// terminate runs docs/plex-api.md §6.3: terminate; without a Session id,
// wait for the resync and try again, else stop the transcode; on a refusal
// (no Plex Pass, not the owner) stop the transcode if the rule allows;
// after success, verify.
func (e *Engine) terminate(j job) {
	s := j.s
	intent := e.intend(e.record(j, s))
	res := e.callTerminate(s, j.message)
	if res.Outcome == app.OutcomeNoID {
		if fresh, ok := e.awaitID(s); ok {
			s = fresh
			res = e.callTerminate(s, j.message)
		} else if !e.stillListed(s) {
			res = app.Result{Outcome: app.OutcomeGone}
		}
	}
	rec := e.record(j, s)
	rec.Outcome, rec.Detail, rec.LatencyMs = string(res.Outcome), errText(res), ms(time.Since(j.trigger))
	rec.Intent = intent
	e.write(rec)
	switch res.Outcome {
	case app.OutcomeDone:
		e.clearProblem(s.Server)
		e.notifyResult(j, "Terminated", "Could not terminate", res)
		e.startVerify(j, s, 1)
	case app.OutcomeGone:
	case app.OutcomeNoID:
		e.escalate(j, s, "Plex reported no Session id, so the stream could not be terminated; its transcode was stopped instead")
	case app.OutcomePlexPass, app.OutcomeForbidden, app.OutcomeUnauthorized:
		if e.setProblem(s.Server, res) {
			e.notifyResult(j, "Terminated", "Could not terminate", res)
		}
		if c := j.rule; c.FallbackStopTranscode && res.Outcome != app.OutcomeUnauthorized {
			e.escalate(j, s, "fallback: the server refused to terminate ("+string(res.Outcome)+")")
		}
		if transient(res) {
			e.retryLater(j)
		}
	default:
		e.notifyResult(j, "Terminated", "Could not terminate", res)
		switch {
		case transient(res):
			e.retryLater(j)
		case j.rule.FallbackStopTranscode:
			// Retrying cannot help (the server refused the request
			// itself): stop the transcode as the rule allows.
			e.escalate(j, s, "fallback: the server refused the terminate request ("+errText(res)+")")
		}
	}
}

// transient reports a failure that may pass: the server erred, did not
// answer or could not be reached, or it rejected the token (while the
// monitor runs, the server takes the token again or the monitor stops).
func transient(res app.Result) bool {
	switch res.Outcome {
	case app.OutcomeUnauthorized:
		return true
	case app.OutcomeFailed:
		return errors.Is(res.Err, plex.ErrServer) || errors.Is(res.Err, plex.ErrTimeout) || errors.Is(res.Err, plex.ErrUnreachable)
	}
	return false
}

// retryLater forgets that j's rule acted on its stream, which was not
// stopped, so the rule acts again after RetryAfter if the stream still
// matches then (as after a grace delay of RetryAfter); it still acts at
// most once successfully.
func (e *Engine) retryLater(j job) {
	id := ident(j.s)
	k := actKey{j.rule.Name, id}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	delete(e.acted, k)
	if j.rule.Action == ActionTerminate {
		delete(e.claimed, id)
	}
	e.pending[k] = &pending{due: e.now().Add(e.opts.RetryAfter), trigger: j.trigger}
	e.mu.Unlock()
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// escalate stops the transcode of s (if it has one) and verifies once more.
func (e *Engine) escalate(j job, s app.Session, why string) {
	cur, ok := e.opts.Actor.Find(s.Key())
	if ok && sameStream(cur, s) {
		s = cur
	}
	rec := e.record(j, s)
	rec.Action, rec.Message = string(ActionStopTranscode), ""
	if s.TranscodeKey == "" {
		rec.Outcome, rec.Detail = OutcomeNotTranscoding, why+"; but it is not transcoding, so nothing more can be done"
		e.write(rec)
		return
	}
	t0 := time.Now()
	res := e.stopTranscode(s)
	rec.Outcome, rec.Detail, rec.LatencyMs = string(res.Outcome), words.Join(why, errText(res)), ms(time.Since(t0))
	e.write(rec)
	e.notifyResult(j, "Transcode stopped", "Could not stop the transcode", res)
	if res.OK() {
		e.startVerify(j, s, 2)
	}
}

// awaitID waits for the resync the hub starts after a terminate found no
// Session id, and returns the session if it now has one. It looks at the
// next two updates of the server (the first may be a coalesced position
// update published before the fetch ends), at most noIDWait.
func (e *Engine) awaitID(s app.Session) (app.Session, bool) {
	if cur, ok := e.opts.Actor.Find(s.Key()); ok && cur.ID != "" && cur.Player.MachineIdentifier == s.Player.MachineIdentifier {
		return cur, true // the resync was quicker than us
	}
	deadline := time.NewTimer(noIDWait)
	defer deadline.Stop()
	for range 2 {
		e.mu.Lock()
		ch, ok := e.updated[s.Server]
		if !ok {
			ch = make(chan struct{})
			e.updated[s.Server] = ch
		}
		e.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return app.Session{}, false
		case <-e.ctx.Done():
			return app.Session{}, false
		}
		cur, ok := e.opts.Actor.Find(s.Key())
		if !ok {
			return app.Session{}, false
		}
		if cur.ID != "" && cur.Player.MachineIdentifier == s.Player.MachineIdentifier {
			return cur, true
		}
	}
	return app.Session{}, false
}

func (e *Engine) stillListed(s app.Session) bool {
	cur, ok := e.opts.Actor.Find(s.Key())
	return ok && sameStream(cur, s)
}

// startVerify waits for s to leave the session list. If the newest
// snapshot already lacks it (it ended while the action's record was being
// written), it is confirmed at once.
func (e *Engine) startVerify(j job, s app.Session, stage int) {
	v := &verification{j: j, s: s, stage: stage, deadline: e.now().Add(e.opts.VerifyAfter), since: time.Now()}
	gone := false
	e.mu.Lock()
	if !e.closed {
		if sn := e.snaps[s.Server]; sn != nil {
			_, listed := find(sn.Sessions, s)
			gone = !listed
		}
		if !gone {
			e.verifying[ident(s)] = v
		}
	}
	e.mu.Unlock()
	if gone {
		e.recordGone(v)
		return
	}
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// checkStillThere runs when a verification deadline passes with the
// session still listed: after a terminate, stop its transcode and verify
// once more; after that, mark it a zombie. Never a loop.
func (e *Engine) checkStillThere(v *verification) {
	cur, ok := e.opts.Actor.Find(v.s.Key())
	if !ok || !sameStream(cur, v.s) {
		e.recordGone(v)
		return
	}
	after := time.Since(v.since).Round(time.Second)
	if v.stage == 1 && cur.TranscodeKey != "" {
		e.escalate(v.j, cur, fmt.Sprintf("still playing %s after terminate: the player ignored it", after))
		return
	}
	rec := e.record(v.j, cur)
	rec.Action, rec.Message, rec.Outcome = HistoryVerify, "", OutcomeZombie
	rec.Detail = fmt.Sprintf("still listed %s after terminate", after)
	if v.stage == 2 {
		rec.Detail = fmt.Sprintf("still listed %s after stopping its transcode", after)
	}
	rec.Detail += "; the player ignores the server (a zombie), so Plex Warden gives up on it"
	e.write(rec)
	e.notify(app.Notification{Kind: app.NotifyTerminated, Title: "Player ignored terminate: " + what(cur),
		Body: fmt.Sprintf("Rule %q: the session is still listed (a zombie). Plex Warden will not try again.", v.j.rule.Name)})
}

func (e *Engine) recordGone(v *verification) {
	rec := e.record(v.j, v.s)
	rec.Action, rec.Message, rec.Outcome = HistoryVerify, "", OutcomeGone
	rec.LatencyMs = ms(time.Since(v.since))
	rec.Detail = "ended after terminate"
	if v.stage == 2 {
		rec.Detail = "ended after its transcode was stopped"
	}
	if !e.goTracked(func() { e.write(rec) }) {
		e.write(rec)
	}
}

// callTerminate and stopTranscode bound one call by ActionTimeout; Close
// aborts them.
func (e *Engine) callTerminate(s app.Session, message string) app.Result {
	ctx, cancel := context.WithTimeout(e.ctx, e.opts.ActionTimeout)
	defer cancel()
	return e.opts.Actor.Terminate(ctx, s, message)
}

func (e *Engine) stopTranscode(s app.Session) app.Result {
	ctx, cancel := context.WithTimeout(e.ctx, e.opts.ActionTimeout)
	defer cancel()
	return e.opts.Actor.StopTranscode(ctx, s)
}

// setProblem remembers a refusal; it reports whether it is news (so it is
// announced once per server, not once per session).
func (e *Engine) setProblem(server string, res app.Result) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.problems[server]
	e.problems[server] = res.Text()
	return old != res.Text()
}

func (e *Engine) clearProblem(server string) {
	e.mu.Lock()
	delete(e.problems, server)
	e.mu.Unlock()
}

// record starts a history record of job j about session s.
func (e *Engine) record(j job, s app.Session) history.Record {
	return history.Record{
		Kind: history.KindRule, Server: s.Server, SessionID: s.ID, SessionKey: s.SessionKey,
		User: s.User, Title: s.Title, Player: playerLabel(s.Player), Rule: j.rule.Name, Action: string(j.rule.Action),
		DryRun: j.dryRun, Message: j.message,
	}
}

// intend writes the intent record of r's action before its request is
// sent (history.OutcomeSending), so a crash before the outcome record
// leaves a trace the next start reports; it returns the Intent id for the
// outcome record ("" without a history).
func (e *Engine) intend(r history.Record) string {
	if e.opts.History == nil {
		return ""
	}
	r.Intent, r.Outcome, r.Time = history.NewIntent(), history.OutcomeSending, e.opts.Clock()
	if err := e.opts.History.Append(r); err != nil {
		e.opts.Log.Error("writing the history", "err", err)
	}
	return r.Intent
}

// write stamps r with the time the outcome is known and stores it.
func (e *Engine) write(r history.Record) {
	r.Time = e.opts.Clock()
	e.opts.Log.Info("rule action", "rule", r.Rule, "action", r.Action, "server", r.Server, "user", r.User,
		"title", r.Title, "outcome", r.Outcome, "dryRun", r.DryRun, "latencyMs", r.LatencyMs, "detail", r.Detail)
	if e.opts.History == nil {
		return
	}
	if err := e.opts.History.Append(r); err != nil {
		e.opts.Log.Error("writing the history", "err", err)
	}
}

func (e *Engine) notify(n app.Notification) {
	if e.opts.Notify != nil {
		e.opts.Notify(n)
	}
}

func (e *Engine) notifyResult(j job, done, failed string, res app.Result) {
	title := done + ": " + what(j.s)
	if !res.OK() {
		title = failed + ": " + what(j.s)
	}
	body := fmt.Sprintf("Rule %q: %s.", j.rule.Name, j.reason)
	if !res.OK() {
		body = res.Text() + " " + body
	}
	e.notify(app.Notification{Kind: app.NotifyTerminated, Title: title, Body: body})
}

// ManualRecord is the history record of an action the admin took by hand
// (the window, the tray, the command line): action is ActionTerminate or
// ActionStopTranscode, took the time the call took.
func ManualRecord(s app.Session, action Action, message string, res app.Result, took time.Duration) history.Record {
	return history.Record{
		Time: time.Now(), Kind: history.KindManual, Server: s.Server, SessionID: s.ID, SessionKey: s.SessionKey,
		User: s.User, Title: s.Title, Player: playerLabel(s.Player), Action: string(action), Message: message,
		Outcome: string(res.Outcome), LatencyMs: ms(took), Detail: errText(res),
	}
}

// playerLabel names a player for history: "Den (Plex for Roku)", or
// "Plex for Roku (Roku)" when it has no name of its own.
func playerLabel(p app.Player) string {
	if p.Title != "" && p.Product != "" && !strings.EqualFold(p.Title, p.Product) {
		return p.Title + " (" + p.Product + ")"
	}
	return playerName(p)
}

func what(s app.Session) string { return s.User + " · " + s.Title }

// errText is the result's error in words; plex errors never hold the token.
func errText(res app.Result) string {
	if res.Err == nil {
		return ""
	}
	if errors.Is(res.Err, context.Canceled) {
		return "cancelled (Plex Warden was stopping)"
	}
	return res.Err.Error()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
