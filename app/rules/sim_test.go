package rules

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// These tests run the real chain over 127.0.0.1: plexsim's HTTP and SSE,
// plex.Client and Feed, app.Monitor and app.Hub, the Engine and a history
// Store on disk.

const simToken = "sim-secret-token"

type simEnv struct {
	sim    *plexsim.Server
	client *plex.Client
	hub    *app.Hub
	mon    *app.Monitor
	engine *Engine
	hist   *history.Store
}

func startSimEnv(t testing.TB, simOpts plexsim.Options, f File, tweak func(*Options)) *simEnv {
	t.Helper()
	return startSimEnvWith(t, simOpts, f, tweak, nil)
}

// startSimEnvWith is startSimEnv with first, which sees every update before
// the engine does (the diagnostics detector, as the desktop app and watch
// wire it).
func startSimEnvWith(t testing.TB, simOpts plexsim.Options, f File, tweak func(*Options), first func(app.Update)) *simEnv {
	t.Helper()
	simOpts.Token = simToken
	if simOpts.PingInterval == 0 {
		simOpts.PingInterval = time.Hour // no pings: quiet, deterministic streams
	}
	sim := plexsim.New(simOpts)
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	c, err := plex.NewClient(sim.URL(), simToken, plex.ClientInfo{ID: "rules-test"}, plex.WithTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	feed := c.NewFeed(nil)
	feed.MinBackoff, feed.MaxBackoff = 20*time.Millisecond, 100*time.Millisecond
	mon := app.NewMonitor(app.MonitorConfig{Server: "sim", URL: c.BaseURL(), Source: c, Feed: feed, Reconcile: time.Hour, Coalesce: 20 * time.Millisecond})
	hist, err := history.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hub := app.NewHub()
	opts := Options{Actor: hub, History: hist, VerifyAfter: 300 * time.Millisecond}
	if tweak != nil {
		tweak(&opts)
	}
	engine := NewEngine(opts)
	if err := engine.SetRules(f); err != nil {
		t.Fatal(err)
	}
	if first != nil {
		hub.OnUpdate(first)
	}
	hub.OnUpdate(engine.Observe)
	life := 30 * time.Second // a test's bound
	if _, bench := t.(*testing.B); bench {
		life = 15 * time.Minute // a benchmark runs as long as -benchtime asks
	}
	ctx, cancel := context.WithTimeout(context.Background(), life)
	engineDone := make(chan struct{})
	go func() {
		defer close(engineDone)
		_ = engine.Run(ctx)
	}()
	hub.Start(ctx, mon, c)
	t.Cleanup(func() {
		cancel()
		hub.Wait()
		<-engineDone
		// A connection dialled for a request cancelled at shutdown sits in
		// the client's pool without a request; the server's Shutdown would
		// wait for it, so close it first.
		c.HTTPClient().CloseIdleConnections()
		sim.Close()
		hist.Close()
	})
	waitFor(t, "connected", 3*time.Second, func() bool { return mon.Snapshot().Conn.Status == app.Connected })
	return &simEnv{sim: sim, client: c, hub: hub, mon: mon, engine: engine, hist: hist}
}

func (e *simEnv) waitCalls(t *testing.T, n int) []plexsim.Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	calls, err := e.sim.WaitCalls(ctx, n)
	if err != nil {
		t.Fatalf("waiting for %d calls: %v (have %+v)", n, err, calls)
	}
	return calls
}

func (e *simEnv) waitRecord(t *testing.T, action, outcome, sessionID string) history.Record {
	t.Helper()
	var found history.Record
	waitFor(t, action+" "+outcome+" record", 3*time.Second, func() bool {
		recs, _ := e.hist.Query(history.Filter{Action: action, Outcome: outcome})
		for _, r := range recs {
			if sessionID == "" || r.SessionID == sessionID {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

func (e *simEnv) live(key string) bool {
	for _, s := range e.mon.Snapshot().Sessions() {
		if s.SessionKey == key {
			return true
		}
	}
	return false
}

var roku = plexsim.PlayerSpec{Title: "Living Room", Product: "Plex for Roku", Platform: "Roku", Device: "Roku Ultra"}

func TestSimTerminatesWithPerPlayerMessage(t *testing.T) {
	f := rulesFile(rule(KindTranscode, func(r *Rule) {
		r.Name = "No transcodes"
		r.Messages = map[string]string{"roku": "{user}, your Roku is converting {title}. {quality}"}
		r.Exempt.Users = []string{"bob"}
	}))
	e := startSimEnv(t, plexsim.Options{PlexPass: true}, f, nil)
	direct := e.sim.AddSession(plexsim.SessionSpec{User: "carol", Title: "Direct"})
	exempt := e.sim.AddSession(plexsim.SessionSpec{User: "bob", Title: "Exempt", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	rk := e.sim.AddSession(plexsim.SessionSpec{User: "alice", Title: "Night Harbor", Player: roku, Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	web := e.sim.AddSession(plexsim.SessionSpec{User: "dave", Title: "Signal", Player: plexsim.PlayerSpec{Product: "Plex Web", Platform: "Chrome"},
		Resolution: "4k", VideoCodec: "hevc", Transcode: &plexsim.TranscodeSpec{Video: "transcode", HW: true}})

	calls := e.waitCalls(t, 2)
	byID := map[string]plexsim.Call{}
	for _, c := range calls {
		if c.Kind != plexsim.CallTerminate || c.Status != 200 {
			t.Errorf("call %+v, want a terminate answered 200", c)
		}
		byID[c.SessionID] = c
	}
	wantRoku := "alice, your Roku is converting Night Harbor. On Roku: Settings › Playback › Remote quality › Original, then play again."
	if got := byID[rk.ID].Reason; got != wantRoku {
		t.Errorf("Roku message = %q\nwant %q", got, wantRoku)
	}
	if got := byID[web.ID].Reason; !strings.HasPrefix(got, "This server does not allow converted (transcoded) streams. In Plex Web: Settings › Quality › Remote streaming › Original") {
		t.Errorf("Plex Web message = %q, want the default with Plex Web instructions", got)
	}
	waitFor(t, "both gone", 3*time.Second, func() bool { return !e.live(rk.Key) && !e.live(web.Key) })
	r := e.waitRecord(t, "terminate", "done", rk.ID)
	if r.Rule != "No transcodes" || r.User != "alice" || r.Title != "Night Harbor" || r.Player != "Living Room (Plex for Roku)" || r.Message != wantRoku || r.LatencyMs <= 0 {
		t.Errorf("history record = %+v", r)
	}
	e.waitRecord(t, HistoryVerify, OutcomeGone, rk.ID)
	e.waitRecord(t, HistoryVerify, OutcomeGone, web.ID)

	// Direct play and the exempt user are untouched, also after more events.
	_ = e.sim.SetState(direct.Key, plexsim.StatePaused)
	_ = e.sim.SetState(exempt.Key, plexsim.StatePaused)
	e.sim.Advance(time.Second)
	time.Sleep(150 * time.Millisecond)
	if n := len(e.sim.Calls()); n != 2 {
		t.Errorf("%d calls, want 2: direct play and the exempt user untouched", n)
	}
	if !e.live(direct.Key) || !e.live(exempt.Key) {
		t.Error("an untouched session disappeared")
	}
	for _, r := range mustQuery(t, e.hist) {
		if strings.Contains(r.Message+r.Detail, simToken) {
			t.Errorf("the token is in the history: %+v", r)
		}
	}
}

func mustQuery(t *testing.T, h *history.Store) []history.Record {
	t.Helper()
	recs, err := h.Query(history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestSimTranscodeStopsDuringGrace(t *testing.T) {
	f := rulesFile(rule(KindTranscode, func(r *Rule) { r.Grace = Duration(400 * time.Millisecond) }))
	e := startSimEnv(t, plexsim.Options{PlexPass: true}, f, nil)
	ref := e.sim.AddSession(plexsim.SessionSpec{User: "alice", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	waitFor(t, "grace started", 3*time.Second, func() bool { return e.engine.Status().Pending == 1 })
	if err := e.sim.StopTranscodeOf(ref.Key); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "grace dropped", 3*time.Second, func() bool { return e.engine.Status().Pending == 0 })
	time.Sleep(600 * time.Millisecond)
	if calls := e.sim.Calls(); len(calls) != 0 {
		t.Errorf("calls = %+v, want none: the transcode stopped during the grace delay", calls)
	}
	if !e.live(ref.Key) {
		t.Error("the session was stopped")
	}

	// A transcode that stays past the grace delay is terminated.
	ref2 := e.sim.AddSession(plexsim.SessionSpec{User: "erin", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	start := time.Now()
	calls := e.waitCalls(t, 1)
	if calls[0].SessionID != ref2.ID || time.Since(start) < 400*time.Millisecond {
		t.Errorf("call %+v after %v, want a terminate of %s after the 400ms grace", calls[0], time.Since(start), ref2.ID)
	}
}

func TestSimZombieEscalationNoDoubleTerminate(t *testing.T) {
	f := rulesFile(
		rule(KindTranscode, func(r *Rule) { r.Name = "tc" }),
		rule(KindRemote, func(r *Rule) { r.Name = "remote" }),
	)
	e := startSimEnv(t, plexsim.Options{PlexPass: true}, f, nil)
	ref := e.sim.AddSession(plexsim.SessionSpec{User: "zed", Zombie: true, Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	calls := e.waitCalls(t, 1)
	if calls[0].Kind != plexsim.CallTerminate || calls[0].SessionID != ref.ID {
		t.Fatalf("first call = %+v, want a terminate", calls[0])
	}
	// The player keeps going and reporting: no second terminate.
	for range 3 {
		e.sim.Advance(time.Second)
		_ = e.sim.SetState(ref.Key, plexsim.StatePaused)
		_ = e.sim.SetState(ref.Key, plexsim.StatePlaying)
		time.Sleep(20 * time.Millisecond)
	}
	calls = e.waitCalls(t, 2)
	if calls[1].Kind != plexsim.CallStopTranscode || calls[1].TranscodeKey != ref.TranscodeKey {
		t.Fatalf("second call = %+v, want the transcode %s stopped", calls[1], ref.TranscodeKey)
	}
	z := e.waitRecord(t, HistoryVerify, OutcomeZombie, ref.ID)
	if !strings.Contains(z.Detail, "after stopping its transcode") {
		t.Errorf("zombie record = %+v", z)
	}
	e.sim.Advance(time.Second)
	time.Sleep(400 * time.Millisecond) // more than VerifyAfter: nothing else happens
	if calls := e.sim.Calls(); len(calls) != 2 {
		t.Errorf("calls = %+v, want exactly terminate + stop-transcode (never a loop, never twice)", calls)
	}
	if !e.live(ref.Key) {
		t.Error("the zombie should still be listed")
	}
}

func TestSimDryRun(t *testing.T) {
	f := rulesFile(rule(KindTranscode))
	f.DryRun = true
	e := startSimEnv(t, plexsim.Options{PlexPass: true}, f, nil)
	ref := e.sim.AddSession(plexsim.SessionSpec{User: "alice", Player: roku, Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	r := e.waitRecord(t, "terminate", string(app.OutcomeDryRun), ref.ID)
	if !r.DryRun || !strings.Contains(r.Message, "On Roku") {
		t.Errorf("dry-run record = %+v, want the message that would be sent", r)
	}
	time.Sleep(100 * time.Millisecond)
	if calls := e.sim.Calls(); len(calls) != 0 {
		t.Errorf("calls = %+v, want none in dry run", calls)
	}
}

func TestSimNoPlexPassFallsBackToStopTranscode(t *testing.T) {
	f := rulesFile(rule(KindTranscode, func(r *Rule) { r.FallbackStopTranscode = true }))
	var notified []app.Notification
	notes := make(chan app.Notification, 10)
	e := startSimEnv(t, plexsim.Options{PlexPass: false}, f, func(o *Options) { o.Notify = func(n app.Notification) { notes <- n } })
	ref := e.sim.AddSession(plexsim.SessionSpec{User: "alice", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	calls := e.waitCalls(t, 2)
	if calls[0].Kind != plexsim.CallTerminate || calls[0].Status != 401 || calls[1].Kind != plexsim.CallStopTranscode || calls[1].Status != 200 {
		t.Fatalf("calls = %+v, want terminate 401 then stop-transcode 200", calls)
	}
	e.waitRecord(t, "terminate", string(app.OutcomePlexPass), ref.ID)
	s := e.waitRecord(t, "stopTranscode", "done", ref.ID)
	if !strings.Contains(s.Detail, "refused") {
		t.Errorf("stop-transcode detail = %q", s.Detail)
	}
	if p := e.engine.Status().Problem; !strings.Contains(p, "Plex Pass") {
		t.Errorf("status problem = %q, want a clear Plex Pass message", p)
	}
	waitFor(t, "notification", time.Second, func() bool {
		select {
		case n := <-notes:
			notified = append(notified, n)
		default:
		}
		for _, n := range notified {
			if strings.Contains(n.Body, "Plex Pass") {
				return true
			}
		}
		return false
	})
}

func TestSimNoPlexPassWithoutFallback(t *testing.T) {
	e := startSimEnv(t, plexsim.Options{PlexPass: false}, rulesFile(rule(KindTranscode)), nil)
	ref := e.sim.AddSession(plexsim.SessionSpec{User: "alice", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	e.waitCalls(t, 1)
	e.waitRecord(t, "terminate", string(app.OutcomePlexPass), ref.ID)
	time.Sleep(100 * time.Millisecond)
	if calls := e.sim.Calls(); len(calls) != 1 {
		t.Errorf("calls = %+v, want only the refused terminate", calls)
	}
}
