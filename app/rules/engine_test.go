package rules

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/plex"
)

type testEngine struct {
	*Engine
	actor *fakeActor
	hist  *memHistory
	clock *fakeClock
	notes *notes
}

type notes struct {
	mu  sync.Mutex
	all []app.Notification
}

func (n *notes) add(x app.Notification) { n.mu.Lock(); n.all = append(n.all, x); n.mu.Unlock() }
func (n *notes) list() []app.Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]app.Notification(nil), n.all...)
}

// newTestEngine returns an engine on a fake actor and clock (not running:
// tests call tick to fire timers).
func newTestEngine(t *testing.T, f File, opts ...func(*Options)) *testEngine {
	t.Helper()
	te := &testEngine{actor: newFakeActor(), hist: &memHistory{}, clock: &fakeClock{now: t0.Add(time.Hour)}, notes: &notes{}}
	o := Options{Actor: te.actor, History: te.hist, Clock: te.clock.Now, Location: time.UTC, Notify: te.notes.add, VerifyAfter: 15 * time.Second}
	for _, m := range opts {
		m(&o)
	}
	te.Engine = NewEngine(o)
	t.Cleanup(te.Close)
	if err := te.SetRules(f); err != nil {
		t.Fatal(err)
	}
	return te
}

func rulesFile(rs ...Rule) File { return File{Version: Version, Rules: rs} }

// settle waits for the engine's goroutines to go quiet.
func settle() { time.Sleep(30 * time.Millisecond) }

func TestEngineActsOnTheUpdate(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode, func(r *Rule) { r.Name = "No transcodes" })))
	s := sess("1", transcoding, player("Plex for Roku", "Roku"))
	te.actor.setLive(s)
	te.Observe(update("home", sess("2"), s))
	calls := te.actor.waitCalls(t, 1)
	if calls[0].kind != "terminate" || calls[0].id != "id1" || !strings.Contains(calls[0].message, "On Roku") {
		t.Errorf("call = %+v, want a terminate of id1 with Roku instructions", calls[0])
	}
	r := te.hist.waitRecord(t, "terminate", "done")
	if r.Kind != history.KindRule || r.Rule != "No transcodes" || r.User != "alice" || r.SessionID != "id1" || r.Message != calls[0].message || r.Player != "Plex for Roku (Roku)" {
		t.Errorf("record = %+v", r)
	}
	if r.LatencyMs <= 0 {
		t.Errorf("latency = %v, want > 0", r.LatencyMs)
	}
	// Later updates do not act again.
	for range 5 {
		te.Observe(update("home", sess("2"), s))
	}
	settle()
	if n := len(te.actor.Calls()); n != 1 {
		t.Errorf("%d calls after more updates, want 1", n)
	}
	if ns := te.notes.list(); len(ns) != 1 || !strings.HasPrefix(ns[0].Title, "Terminated: alice") {
		t.Errorf("notifications = %+v, want one Terminated", ns)
	}
}

func TestEngineOnlyConnectedServers(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode)))
	up := update("home", sess("1", transcoding))
	up.Snapshot.Conn.Status = app.Reconnecting
	te.Observe(up)
	settle()
	if n := len(te.actor.Calls()); n != 0 {
		t.Errorf("%d calls on a stale session list, want 0", n)
	}
}

func TestEngineGrace(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode, func(r *Rule) { r.Grace = Duration(30 * time.Second) })))
	s := sess("1", transcoding)
	te.Observe(update("home", s))
	settle()
	if n := len(te.actor.Calls()); n != 0 || te.Status().Pending != 1 {
		t.Fatalf("during grace: %d calls, %d pending; want 0 and 1", n, te.Status().Pending)
	}
	te.clock.Add(29 * time.Second)
	te.tick()
	settle()
	if n := len(te.actor.Calls()); n != 0 {
		t.Fatalf("%d calls before the grace ended", n)
	}
	te.clock.Add(time.Second)
	te.tick()
	te.actor.waitCalls(t, 1)
	if r := te.hist.waitRecord(t, "terminate", "done"); r.LatencyMs <= 0 {
		t.Errorf("latency %v, want the time since the trigger", r.LatencyMs)
	}
}

func TestEngineGraceClearedWhenTranscodeStops(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode, func(r *Rule) { r.Grace = Duration(10 * time.Second) })))
	te.Observe(update("home", sess("1", transcoding)))
	te.clock.Add(5 * time.Second)
	te.Observe(update("home", sess("1"))) // transcode stopped: direct play now
	if te.Status().Pending != 0 {
		t.Error("pending not dropped when the session stopped matching")
	}
	te.clock.Add(10 * time.Second)
	te.tick()
	// It transcodes again: the grace starts over.
	te.Observe(update("home", sess("1", transcoding)))
	te.clock.Add(5 * time.Second)
	te.tick()
	settle()
	if n := len(te.actor.Calls()); n != 0 {
		t.Errorf("%d calls, want 0 (the grace restarted)", n)
	}
}

func TestEnginePausedTooLong(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindPaused, func(r *Rule) { r.PausedFor = Duration(10 * time.Minute) })))
	now := te.clock.Now()
	te.Observe(update("home", sess("1", paused(now.Add(-9*time.Minute)))))
	settle()
	if len(te.actor.Calls()) != 0 {
		t.Fatal("acted before the pause was long enough")
	}
	te.mu.Lock()
	wake := te.nextWakeLocked()
	te.mu.Unlock()
	if want := now.Add(time.Minute); !wake.Equal(want) {
		t.Errorf("next wake = %v, want %v", wake, want)
	}
	te.clock.Add(time.Minute)
	te.tick()
	te.actor.waitCalls(t, 1)
}

func TestEngineDryRun(t *testing.T) {
	f := rulesFile(rule(KindTranscode, func(r *Rule) { r.Name = "tc" }), rule(KindRemote, func(r *Rule) { r.Name = "remote"; r.Action = ActionLog }))
	f.DryRun = true
	te := newTestEngine(t, f)
	te.Observe(update("home", sess("1", transcoding)))
	r := te.hist.waitRecord(t, "terminate", "dry run")
	if !r.DryRun || r.Message == "" || r.Detail != "would terminate" {
		t.Errorf("dry-run record = %+v", r)
	}
	te.hist.waitRecord(t, "log", "dry run")
	settle()
	if n := len(te.actor.Calls()); n != 0 {
		t.Errorf("%d calls in dry run, want 0", n)
	}
	if n := len(te.hist.all()); n != 2 {
		t.Errorf("%d records, want 2 (one per rule)", n)
	}
	te.Observe(update("home", sess("1", transcoding)))
	settle()
	if n := len(te.hist.all()); n != 2 {
		t.Errorf("%d records after another update, want still 2 (once per rule)", n)
	}
}

func TestEngineLogAndNotifyActions(t *testing.T) {
	te := newTestEngine(t, rulesFile(
		rule(KindTranscode, func(r *Rule) { r.Name = "log"; r.Action = ActionLog }),
		rule(KindRemote, func(r *Rule) { r.Name = "tell me"; r.Action = ActionNotify }),
	))
	te.Observe(update("home", sess("1", transcoding)))
	if r := te.hist.waitRecord(t, "log", OutcomeLogged); !r.DryRun {
		t.Errorf("log record = %+v, want dryRun", r)
	}
	te.hist.waitRecord(t, "notify", OutcomeNotified)
	ns := te.notes.list()
	if len(ns) != 1 || ns[0].Title != `Rule "tell me": alice · Movie 1` || !strings.Contains(ns[0].Body, "Remote stream from 203.0.113.5") {
		t.Errorf("notifications = %+v", ns)
	}
	if n := len(te.actor.Calls()); n != 0 {
		t.Errorf("%d calls, want 0", n)
	}
}

func TestEngineStopTranscodeAction(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode, func(r *Rule) { r.Action = ActionStopTranscode }),
		rule(KindRemote, func(r *Rule) { r.Name = "stop remote"; r.Action = ActionStopTranscode })))
	te.Observe(update("home", sess("1", transcoding), sess("2")))
	te.actor.waitCalls(t, 2)
	settle()
	calls := te.actor.Calls()
	stops := 0
	for _, c := range calls {
		if c.kind == "stop" {
			stops++
		}
	}
	if stops != 2 || len(calls) != 2 {
		t.Errorf("calls = %+v, want two stop-transcodes of session 1 (one per rule)", calls)
	}
	te.hist.waitRecord(t, "stopTranscode", OutcomeNotTranscoding) // session 2 plays directly
}

func TestEnginePause(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode)))
	te.SetPaused(true)
	te.Observe(update("home", sess("1", transcoding)))
	settle()
	if !te.Paused() || len(te.actor.Calls()) != 0 {
		t.Fatalf("paused engine acted: %+v", te.actor.Calls())
	}
	te.SetPaused(false)
	te.actor.waitCalls(t, 1)
}

func TestEngineNeverTwoTerminates(t *testing.T) {
	te := newTestEngine(t, rulesFile(
		rule(KindTranscode, func(r *Rule) { r.Name = "a" }),
		rule(KindRemote, func(r *Rule) { r.Name = "b" }),
		rule(KindSourceTranscode, func(r *Rule) { r.Name = "c"; r.Action = ActionLog }),
	))
	s := sess("1", transcoding, uhdHEVC)
	te.actor.setLive(s)
	te.Observe(update("home", s))
	te.hist.waitRecord(t, "log", OutcomeLogged)
	settle()
	var terms int
	for _, c := range te.actor.Calls() {
		if c.kind == "terminate" {
			terms++
		}
	}
	if terms != 1 {
		t.Errorf("%d terminates of one session by two rules, want 1", terms)
	}
}

func TestEngineSessionWithoutID(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode)))
	s := sess("1", transcoding, noID)
	te.actor.setLive(s)
	te.Observe(update("home", s))
	te.actor.waitCalls(t, 1) // NoID at once; the engine waits for the resync
	withID := s
	withID.ID = "late-id"
	te.actor.setLive(withID)
	te.Observe(update("home", withID))
	calls := te.actor.waitCalls(t, 2)
	if calls[1].kind != "terminate" || calls[1].id != "late-id" {
		t.Errorf("second call = %+v, want a terminate with the Session id from the resync", calls[1])
	}
	settle()
	if n := len(te.actor.Calls()); n != 2 {
		t.Errorf("%d calls, want 2 (the session with its new id is the same stream)", n)
	}
}

func TestEngineSessionWithoutIDEver(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode)))
	s := sess("1", transcoding, noID)
	te.actor.setLive(s)
	te.Observe(update("home", s))
	te.actor.waitCalls(t, 1)
	waiting := func() {
		waitFor(t, "the engine waiting for an update", time.Second, func() bool {
			te.mu.Lock()
			defer te.mu.Unlock()
			_, ok := te.updated["home"]
			return ok
		})
	}
	waiting()
	te.Observe(update("home", s)) // a position update
	waiting()
	te.Observe(update("home", s)) // the resync: still no id
	calls := te.actor.waitCalls(t, 2)
	if calls[1].kind != "stop" {
		t.Errorf("calls = %+v, want terminate then stop-transcode", calls)
	}
	te.hist.waitRecord(t, "terminate", string(app.OutcomeNoID))
	r := te.hist.waitRecord(t, "stopTranscode", "done")
	if !strings.Contains(r.Detail, "no Session id") {
		t.Errorf("detail = %q", r.Detail)
	}
}

func TestEngineVerifyGone(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode)))
	s := sess("1", transcoding)
	te.actor.setLive(s)
	te.Observe(update("home", s))
	te.actor.waitCalls(t, 1)
	waitFor(t, "verification started", time.Second, func() bool { return te.Status().Verifying == 1 })
	te.actor.setLive()
	te.Observe(update("home"))
	r := te.hist.waitRecord(t, HistoryVerify, OutcomeGone)
	if r.Rule == "" || r.SessionID != "id1" {
		t.Errorf("verify record = %+v", r)
	}
	if te.Status().Verifying != 0 {
		t.Error("verification still pending")
	}
}

func TestEngineZombieEscalation(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode)))
	s := sess("1", transcoding)
	te.actor.setLive(s)
	te.Observe(update("home", s))
	te.actor.waitCalls(t, 1)
	waitFor(t, "verification started", time.Second, func() bool { return te.Status().Verifying == 1 })
	te.clock.Add(15 * time.Second)
	te.tick()
	calls := te.actor.waitCalls(t, 2)
	if calls[1].kind != "stop" {
		t.Fatalf("calls = %+v, want a stop-transcode after the ignored terminate", calls)
	}
	r := te.hist.waitRecord(t, "stopTranscode", "done")
	if !strings.Contains(r.Detail, "ignored") {
		t.Errorf("detail = %q", r.Detail)
	}
	// Still listed (transcode gone, player still there): zombie, no more calls.
	s.TranscodeKey = ""
	te.actor.setLive(s)
	waitFor(t, "second verification", time.Second, func() bool { return te.Status().Verifying == 1 })
	te.clock.Add(15 * time.Second)
	te.tick()
	z := te.hist.waitRecord(t, HistoryVerify, OutcomeZombie)
	if !strings.Contains(z.Detail, "after stopping its transcode") {
		t.Errorf("zombie detail = %q", z.Detail)
	}
	for range 3 {
		te.clock.Add(time.Minute)
		te.Observe(update("home", s))
		te.tick()
	}
	settle()
	if n := len(te.actor.Calls()); n != 2 {
		t.Errorf("%d calls, want 2: never a loop", n)
	}
}

func TestEngineZombieDirectPlay(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindRemote)))
	s := sess("1")
	te.actor.setLive(s)
	te.Observe(update("home", s))
	te.actor.waitCalls(t, 1)
	waitFor(t, "verification started", time.Second, func() bool { return te.Status().Verifying == 1 })
	te.clock.Add(15 * time.Second)
	te.tick()
	te.hist.waitRecord(t, HistoryVerify, OutcomeZombie)
	if n := len(te.actor.Calls()); n != 1 {
		t.Errorf("%d calls, want 1 (a direct play has no transcode to stop)", n)
	}
	if ns := te.notes.list(); len(ns) != 2 || !strings.HasPrefix(ns[1].Title, "Player ignored terminate") {
		t.Errorf("notifications = %+v", ns)
	}
}

func TestEngineRefusedTerminate(t *testing.T) {
	refuse := func(s app.Session) app.Result {
		return app.Result{Outcome: app.OutcomePlexPass, Err: &plex.Error{Op: "terminate", Server: "http://127.0.0.1:1", Status: 401, Err: plex.ErrPlexPassRequired}}
	}
	tests := []struct {
		name      string
		fallback  bool
		wantCalls []string
	}{
		{"no fallback", false, []string{"terminate", "terminate"}},
		{"fallback stops the transcode", true, []string{"terminate", "stop", "terminate", "stop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTestEngine(t, rulesFile(rule(KindTranscode, func(r *Rule) { r.FallbackStopTranscode = tt.fallback })))
			te.actor.terminate = refuse
			a, b := sess("1", transcoding), sess("2", transcoding)
			te.actor.setLive(a, b)
			te.Observe(update("home", a))
			te.actor.waitCalls(t, len(tt.wantCalls)/2)
			te.hist.waitRecord(t, "terminate", string(app.OutcomePlexPass))
			settle()
			te.Observe(update("home", a, b))
			te.actor.waitCalls(t, len(tt.wantCalls))
			settle()
			var kinds []string
			for _, c := range te.actor.Calls() {
				kinds = append(kinds, c.kind)
			}
			if strings.Join(kinds, ",") != strings.Join(tt.wantCalls, ",") {
				t.Errorf("calls = %v, want %v", kinds, tt.wantCalls)
			}
			if st := te.Status(); !strings.Contains(st.Problem, "Plex Pass") {
				t.Errorf("status problem = %q, want Plex Pass", st.Problem)
			}
			refusals := 0
			for _, n := range te.notes.list() {
				if strings.HasPrefix(n.Title, "Could not terminate") {
					refusals++
				}
			}
			if refusals != 1 {
				t.Errorf("%d refusal notifications for two sessions, want 1", refusals)
			}
		})
	}
}

func TestEngineUserStreamsNewestOnly(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindUserStreams, func(r *Rule) { r.MaxStreams = 2 })))
	a, b, c := sess("1"), sess("2", onServer("cabin")), sess("3")
	te.actor.setLive(a, b, c)
	te.Observe(update("cabin", b))
	te.Observe(update("home", a, c))
	calls := te.actor.waitCalls(t, 1)
	settle()
	if len(te.actor.Calls()) != 1 || calls[0].id != "id3" {
		t.Errorf("calls = %+v, want only the newest (id3)", te.actor.Calls())
	}
	// The terminated session lingers (a zombie): the others are still not touched.
	te.Observe(update("home", a, c))
	settle()
	if n := len(te.actor.Calls()); n != 1 {
		t.Errorf("%d calls, want 1: a lingering victim never makes another stream the victim", n)
	}
}

func TestEnginePreviewMarksDone(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode, func(r *Rule) { r.Name = "tc" })))
	s := sess("1", transcoding)
	te.actor.setLive(s)
	st := &app.State{Servers: []*app.Snapshot{app.Snapshot{Server: "home", Conn: app.Conn{Status: app.Connected}}.WithSessions(s, sess("2"))}}
	items := te.Preview(st)
	if len(items) != 1 || items[0].Done || items[0].Session.SessionKey != "1" || items[0].Message == "" {
		t.Fatalf("preview = %+v, want session 1 not done", items)
	}
	te.Observe(app.Update{Snapshot: st.Servers[0]})
	te.actor.waitCalls(t, 1)
	if items := te.Preview(st); len(items) != 1 || !items[0].Done {
		t.Errorf("preview after acting = %+v, want done", items)
	}
}

func TestEngineSetRulesInvalidKeepsOld(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode, func(r *Rule) { r.Name = "keep" })))
	err := te.SetRules(rulesFile(Rule{Name: "bad", Kind: "nope"}))
	var fe *FileError
	if !errors.As(err, &fe) || fe.Rule != 0 || fe.Field != "kind" {
		t.Errorf("SetRules(invalid) = %v, want a FileError for rules[0].kind", err)
	}
	if f := te.Rules(); len(f.Rules) != 1 || f.Rules[0].Name != "keep" {
		t.Errorf("rules = %+v, want the old ones", f.Rules)
	}
}

func TestEngineRunFiresTimersAndCloses(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode, func(r *Rule) { r.Grace = Duration(50 * time.Millisecond) })),
		func(o *Options) { o.Clock = time.Now })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- te.Run(ctx) }()
	start := time.Now()
	te.Observe(update("home", sess("1", transcoding)))
	te.actor.waitCalls(t, 1)
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("acted after %v, before the 50ms grace", d)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return")
	}
	te.Observe(update("home", sess("2", transcoding))) // closed: ignored
	settle()
	if n := len(te.actor.Calls()); n != 1 {
		t.Errorf("%d calls, want 1 (nothing after Close)", n)
	}
}

func TestEngineCloseAbortsActions(t *testing.T) {
	te := newTestEngine(t, rulesFile(rule(KindTranscode)))
	block := make(chan struct{})
	te.actor.terminate = func(s app.Session) app.Result { <-block; return app.Result{Outcome: app.OutcomeDone} }
	te.Observe(update("home", sess("1", transcoding)))
	te.actor.waitCalls(t, 1)
	closed := make(chan struct{})
	go func() { te.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while an action was still running")
	case <-time.After(20 * time.Millisecond):
	}
	close(block)
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not return")
	}
}

func TestEngineDryRunOffActsOnLoggedSessions(t *testing.T) {
	f := rulesFile(rule(KindTranscode, func(r *Rule) { r.Name = "tc" }), rule(KindRemote, func(r *Rule) { r.Name = "remote"; r.Action = ActionLog }))
	f.DryRun = true
	te := newTestEngine(t, f)
	s := sess("1", transcoding)
	te.actor.setLive(s)
	te.Observe(update("home", s))
	te.hist.waitRecord(t, "terminate", "dry run")
	f.DryRun = false
	if err := te.SetRules(f); err != nil {
		t.Fatal(err)
	}
	calls := te.actor.waitCalls(t, 1)
	if calls[0].kind != "terminate" {
		t.Errorf("calls = %+v, want the terminate the dry run only logged", calls)
	}
	// Editing a rule again must not terminate the same session twice.
	f.Rules[0].Message = "changed {user}"
	if err := te.SetRules(f); err != nil {
		t.Fatal(err)
	}
	te.Observe(update("home", s))
	settle()
	if n := len(te.actor.Calls()); n != 1 {
		t.Errorf("%d calls after editing the rule, want 1", n)
	}
	logs := 0
	for _, r := range te.hist.all() {
		if r.Action == "log" {
			logs++
		}
	}
	if logs != 2 {
		t.Errorf("%d log records, want 2 (the log-only rule starts afresh when the dry-run switch changes, not on an unrelated edit)", logs)
	}
}
