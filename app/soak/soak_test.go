package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// Timings of the in-process soak. Production uses the same code with
// longer timers (45 s silence watchdog, 0.5–30 s reconnect backoff, 30 s
// reconcile, 15 s verification); the soak scales them down so that a fault
// and its recovery fit in seconds. docs/BENCHMARKS.md ("Fault-injection
// soak") states the bounds and how they scale.
const (
	simToken      = "soak-token"
	pingEvery     = 200 * time.Millisecond // plexsim pings (Plex: 10 s)
	silence       = time.Second            // feed watchdog (default 45 s)
	minBackoff    = 20 * time.Millisecond  // feed reconnect backoff (default 500 ms)
	maxBackoff    = 400 * time.Millisecond // (default 30 s)
	reconcile     = time.Second            // monitor's periodic fetch (default 30 s)
	callTimeout   = time.Second            // plex.Client per-request deadline (default 10 s)
	verifyAfter   = 10 * time.Second       // engine verification (default 15 s)
	retryAfter    = 300 * time.Millisecond // engine retry of a failed terminate (default 10 s)
	convergeBound = 5 * time.Second        // fault cleared → snapshot equals sim.Playing(), connected
	actBound      = 5 * time.Second        // a target is terminated this long after it matched or the fault cleared
	heapBound     = 64 << 20               // HeapInuse ceiling (bytes), the simulator included
)

// soakEnv is the chain under test: simulator, client, hub with one monitor,
// engine, history.
type soakEnv struct {
	t      *testing.T
	sim    *plexsim.Server
	client *plex.Client
	hub    *app.Hub
	engine *rules.Engine
	hist   *history.Store
	ctx    context.Context

	mu       sync.Mutex
	statuses []string // connection status transitions seen by the hub, with times
	last     app.ConnStatus
}

const serverName = "soak"

func (e *soakEnv) startMonitor() {
	feed := e.client.NewFeed(nil)
	feed.MinBackoff, feed.MaxBackoff, feed.Silence = minBackoff, maxBackoff, silence
	feed.AuthMinBackoff, feed.AuthMaxBackoff = minBackoff, maxBackoff // a rejected token is retried (slowly in the product)
	mon := app.NewMonitor(app.MonitorConfig{Server: serverName, URL: e.client.BaseURL(), Source: e.client, Feed: feed,
		Reconcile: reconcile, Coalesce: 20 * time.Millisecond})
	e.hub.Start(e.ctx, mon, e.client)
}

func (e *soakEnv) mon() *app.Monitor { return e.hub.Monitor(serverName) }

func (e *soakEnv) observe(up app.Update) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if st := up.Snapshot.Conn.Status; st != e.last || len(e.statuses) == 0 {
		e.last = st
		e.statuses = append(e.statuses, time.Now().Format("15:04:05.000")+" "+st.String())
		if len(e.statuses) > 40 {
			e.statuses = e.statuses[len(e.statuses)-40:]
		}
	}
}

func (e *soakEnv) recentStatuses() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.statuses, ", ")
}

// monView is the monitor's sessions in simView's form.
func monView(sn *app.Snapshot) map[string]string {
	out := map[string]string{}
	for _, s := range sn.Sessions() {
		out[s.SessionKey] = s.ID + " " + s.State + " " + s.TranscodeKey
	}
	return out
}

// converged reports "" when the monitor is connected and shows exactly the
// simulator's sessions, else what differs.
func (e *soakEnv) converged() string {
	m := e.mon()
	if m == nil {
		return "no monitor"
	}
	sn := m.Snapshot()
	if sn.Conn.Status != app.Connected {
		return "connection " + sn.Conn.Status.String() + " (" + sn.Conn.Err + ")"
	}
	return viewDiff(simView(e.sim), monView(sn))
}

// faultStats collects, per fault, how often it ran and how long recovery took.
type faultStats struct {
	n        int
	converge []time.Duration
	heapPeak uint64 // the largest HeapInuse sample during its rounds
}

// TestSoakFaults runs the real chain against a simulator that keeps
// failing in every way the issue lists (each fault at least once, so even
// the short run covers them all), while sessions come and go and rules
// act, and checks after every fault: the monitor converges to the
// true session set within convergeBound; every session a rule matches is
// terminated exactly once within actBound; no other session is ever
// touched; and at the end no goroutine, file descriptor or memory is
// left behind.
func TestSoakFaults(t *testing.T) {
	total := soakDuration(t)
	d := total * 2 / 3 // TestSoakCrash gets the rest
	r, _ := soakRand(t)
	leakOpt := goleak.IgnoreCurrent() // goroutines of other tests and the runtime

	// Count descriptors after the runtime's network poller exists, so
	// only what the test opens is compared.
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
	}
	fdsBefore := openFDs(t)

	f, err := rules.Parse([]byte(soakRules))
	if err != nil {
		t.Fatal(err)
	}
	sim := plexsim.New(plexsim.Options{Token: simToken, PlexPass: true, PingInterval: pingEvery})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	client, err := plex.NewClient(sim.URL(), simToken, plex.ClientInfo{ID: "plexwarden-soak"}, plex.WithTimeout(callTimeout))
	if err != nil {
		t.Fatal(err)
	}
	hist, err := history.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hub := app.NewHub()
	engine := rules.NewEngine(rules.Options{Actor: hub, History: hist, VerifyAfter: verifyAfter, RetryAfter: retryAfter, ActionTimeout: 3 * time.Second})
	if err := engine.SetRules(f); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	env := &soakEnv{t: t, sim: sim, client: client, hub: hub, engine: engine, hist: hist, ctx: ctx}
	hub.OnUpdate(engine.Observe)
	hub.OnUpdate(env.observe)
	engineDone := make(chan struct{})
	go func() {
		defer close(engineDone)
		_ = engine.Run(ctx)
	}()

	// Heap samples, the simulator's included (it runs in this process),
	// without what earlier tests left for the collector.
	runtime.GC()
	var heapMax, heapSamples uint64
	var heapFirst, heapLast []uint64
	var roundPeak atomic.Uint64 // largest sample since the round began
	stopSampling := make(chan struct{})
	samplingDone := make(chan struct{})
	go func() {
		defer close(samplingDone)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heapSamples++
			heapMax = max(heapMax, ms.HeapInuse)
			for p := roundPeak.Load(); ms.HeapInuse > p && !roundPeak.CompareAndSwap(p, ms.HeapInuse); p = roundPeak.Load() {
			}
			if len(heapFirst) < 40 {
				heapFirst = append(heapFirst, ms.HeapInuse)
			}
			heapLast = append(heapLast, ms.HeapInuse)
			if len(heapLast) > 40 {
				heapLast = heapLast[1:]
			}
		}
	}()

	teardown := sync.OnceFunc(func() {
		close(stopSampling)
		<-samplingDone
		cancel()
		hub.Wait()
		<-engineDone
		client.HTTPClient().CloseIdleConnections()
		sim.Close()
		hist.Close()
	})
	defer teardown()

	env.startMonitor()
	if _, ok := waitFor(convergeBound, func() bool { return env.converged() == "" }); !ok {
		t.Fatalf("no first connection: %s", env.converged())
	}

	sc := newScenario(r, sim)
	for range 8 {
		sc.step()
	}
	stats := map[string]*faultStats{}
	plan := newFaultPlan(t, r)
	start := time.Now()
	rounds := 0
	for (time.Since(start) < d || !plan.firstPassDone()) && !t.Failed() {
		rounds++
		roundPeak.Store(0)
		name := env.fault(r, sc, plan.next(r))
		st := stats[name]
		if st == nil {
			st = &faultStats{}
			stats[name] = st
		}
		st.n++
		cleared := time.Now()
		took, ok := waitFor(convergeBound, func() bool { return env.converged() == "" })
		if !ok {
			t.Errorf("round %d, after %s: the monitor did not converge within %s: %s\nconnection: %s",
				rounds, name, convergeBound, env.converged(), env.recentStatuses())
			break
		}
		st.converge = append(st.converge, took)
		env.checkTargets(sc, rounds, name, cleared)
		st.heapPeak = max(st.heapPeak, roundPeak.Load())
		if errs := sc.checkCalls(sim.Calls()); len(errs) > 0 {
			t.Errorf("round %d, after %s:\n  %s", rounds, name, strings.Join(errs, "\n  "))
			break
		}
		// Quiet churn between faults.
		for range 1 + r.IntN(6) {
			sc.step()
			time.Sleep(between(r, 0, 60*time.Millisecond))
		}
	}

	// Let the last actions finish, then stop everything.
	_, _ = waitFor(actBound, func() bool { return len(sc.pendingTargets(sim.Calls())) == 0 })
	calls := sim.Calls()
	teardown()

	// Targets, calls and the history agree.
	if errs := sc.checkCalls(calls); len(errs) > 0 {
		t.Errorf("calls:\n  %s", strings.Join(errs, "\n  "))
	}
	env.checkHistory(sc, calls)

	// Report.
	var names []string
	for n := range stats {
		names = append(names, n)
	}
	sort.Strings(names)
	targets, ok200 := 0, 0
	for _, tr := range sc.sessions {
		if tr.target() {
			targets++
		}
	}
	for _, c := range calls {
		if c.Kind == plexsim.CallTerminate && c.Status == 200 {
			ok200++
		}
	}
	t.Logf("%d rounds in %s; %d sessions, %d matched a rule, %d terminated (%d terminate calls in all)",
		rounds, time.Since(start).Round(time.Second), len(sc.sessions), targets, ok200, len(calls))
	for _, n := range names {
		st := stats[n]
		sort.Slice(st.converge, func(i, j int) bool { return st.converge[i] < st.converge[j] })
		if len(st.converge) == 0 {
			t.Logf("  %-23s ×%d", n, st.n)
			continue
		}
		t.Logf("  %-23s ×%-3d converged in median %s, max %s; heap peak %.1f MiB", n, st.n,
			st.converge[len(st.converge)/2].Round(time.Millisecond), st.converge[len(st.converge)-1].Round(time.Millisecond), mib(st.heapPeak))
	}
	t.Logf("scenario: %s", sc.opsSummary())
	t.Logf("heap in use: max %.1f MiB over %d samples; first %.1f MiB, last %.1f MiB (median of 40 samples)",
		mib(heapMax), heapSamples, mib(median(heapFirst)), mib(median(heapLast)))
	if heapMax > heapBound {
		t.Errorf("heap in use reached %.1f MiB, bound %.0f MiB", mib(heapMax), mib(heapBound))
	}
	// Growth: the end of the run may not hold much more than its start.
	if first, last := median(heapFirst), median(heapLast); last > 2*first+16<<20 {
		t.Errorf("heap grew from %.1f MiB to %.1f MiB (median of 40 samples at start and end)", mib(first), mib(last))
	}

	// Nothing left behind.
	goleak.VerifyNone(t, leakOpt)
	var fdsAfter map[string]string
	if _, ok := waitFor(5*time.Second, func() bool {
		fdsAfter = openFDs(t)
		return len(fdsAfter) <= len(fdsBefore)
	}); !ok {
		t.Errorf("file descriptors: %d before, %d after; new:%s", len(fdsBefore), len(fdsAfter), fdDiff(fdsBefore, fdsAfter))
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func median(v []uint64) uint64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]uint64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// churn runs scenario steps for about d while a fault is active.
func churn(r *rand.Rand, sc *scenario, d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		sc.step()
		time.Sleep(between(r, 10*time.Millisecond, 150*time.Millisecond))
	}
}

// faultKind is one way the server misbehaves. run injects it, keeps the
// scenario going (churn) for about hold while it lasts, and clears it.
type faultKind struct {
	name   string
	weight int
	run    func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration)
}

// faults are the faults of the issue, with how often each is drawn.
var faults = []faultKind{
	{"stream dropped", 12, func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration) {
		churn(hold / 3)
		e.sim.DropStreams()
		churn(hold / 3)
	}},
	{"server restart", 10, func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration) {
		churn(hold / 3)
		if err := e.sim.Restart(); err != nil {
			e.t.Fatalf("restart: %v", err)
		}
		churn(hold / 3)
	}},
	{"500 answers", 10, func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration) {
		e.sim.FailNext(500, 1+r.IntN(5))
		churn(hold)
		e.sim.FailNext(0, 0)
	}},
	{"401 then accepted", 8, func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration) {
		// The token is refused for a while; the open event stream stays up.
		e.sim.FailAll(401)
		churn(max(hold, 1500*time.Millisecond)) // at least one fetch sees it
		e.sim.FailAll(0)
	}},
	{"401 on reconnect", 6, func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration) {
		// The token is refused and the stream drops: the feed gets 401 on
		// reconnect; the monitor reports the token rejected and keeps
		// retrying (issue 12), so once the server accepts the token again
		// it is watched again without being restarted.
		e.sim.FailAll(401)
		e.sim.DropStreams()
		if _, ok := waitFor(convergeBound, func() bool {
			m := e.mon()
			return m != nil && m.Snapshot().Conn.Status == app.Unauthorized
		}); !ok {
			e.t.Errorf("after 401 and a dropped stream the monitor did not report the token rejected: %s", e.recentStatuses())
		}
		churn(hold)
		e.sim.FailAll(0)
	}},
	{"stream stalled", 10, func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration) {
		e.sim.Stall(true)
		churn(max(hold, 1200*time.Millisecond)) // past the silence watchdog
		e.sim.Stall(false)
	}},
	{"bad events", 10, func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration) {
		e.badEvents(r)
		churn(hold / 2)
		e.badEvents(r)
	}},
	{"oversized event", 6, func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration) {
		// Over plex.MaxEventSize (1 MiB): the feed skips it, counts it and
		// reopens the stream at once (the reconnect resyncs).
		e.sim.SendRaw(plex.EventPlaying, []byte(`{"PlaySessionStateNotification":{"sessionKey":"999999","guid":"`+strings.Repeat("x", 2<<20)+`"}}`))
		churn(hold / 2)
	}},
	{"terminate meets 500", 4, func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration) {
		e.terminateFails(r, sc, churn, func() { e.sim.FailAll(500) }, 0)
	}},
	{"terminate meets 401", 3, func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration) {
		e.terminateFails(r, sc, churn, func() { e.sim.FailAll(401) }, 0)
	}},
	{"terminate times out", 3, func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration) {
		e.terminateFails(r, sc, churn, func() { e.sim.SetDelay(callTimeout + 500*time.Millisecond) }, callTimeout)
	}},
	{"slow answers", 6, func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration) {
		e.sim.SetDelay(between(r, 50*time.Millisecond, callTimeout*9/10)) // under the client's deadline
		churn(max(hold, 1200*time.Millisecond))
		e.sim.SetDelay(0)
	}},
	{"slow answers (timeouts)", 4, func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration) {
		e.sim.SetDelay(between(r, callTimeout*11/10, 2*callTimeout)) // over it: fetches fail
		churn(max(hold, 1200*time.Millisecond))
		e.sim.SetDelay(0)
	}},
	{"no fault", 8, func(e *soakEnv, r *rand.Rand, sc *scenario, churn func(time.Duration), hold time.Duration) {
		churn(hold)
	}},
}

// faultPlan draws the faults of a run: every fault once, in random order,
// then at random by weight. Only those whose name contains
// PLEXWARDEN_SOAK_FAULT run, if it is set.
type faultPlan struct {
	kinds []faultKind
	first []int // the first pass, still to run
	total int   // sum of weights
}

func newFaultPlan(t *testing.T, r *rand.Rand) *faultPlan {
	only := os.Getenv("PLEXWARDEN_SOAK_FAULT")
	p := &faultPlan{}
	for _, f := range faults {
		if strings.Contains(f.name, only) {
			p.kinds = append(p.kinds, f)
			p.total += f.weight
		}
	}
	if p.total == 0 {
		t.Fatalf("PLEXWARDEN_SOAK_FAULT=%q matches no fault", only)
	}
	p.first = r.Perm(len(p.kinds))
	return p
}

// firstPassDone reports whether every fault has run once.
func (p *faultPlan) firstPassDone() bool { return len(p.first) == 0 }

func (p *faultPlan) next(r *rand.Rand) faultKind {
	if len(p.first) > 0 {
		f := p.kinds[p.first[0]]
		p.first = p.first[1:]
		return f
	}
	n := r.IntN(p.total)
	for _, k := range p.kinds {
		if n < k.weight {
			return k
		}
		n -= k.weight
	}
	return p.kinds[len(p.kinds)-1]
}

// fault injects fault f, keeps the scenario going while it lasts, clears
// it and returns its name. When it returns the simulator is healthy again.
func (e *soakEnv) fault(r *rand.Rand, sc *scenario, f faultKind) string {
	hold := between(r, 300*time.Millisecond, 2500*time.Millisecond)
	// Half the time a session a rule must terminate at once appears as
	// the fault begins: its event, fetch and terminate all meet it.
	targetFirst := r.IntN(2) == 0
	step := func(d time.Duration) {
		if targetFirst {
			targetFirst = false
			sc.add(sc.spec(userTranscodeBan, &videoTranscode), "xavier video transcode", time.Now())
		}
		churn(r, sc, d)
	}
	f.run(e, r, sc, step, hold)
	return f.name
}

// terminateFails makes a rule's terminate itself meet a failure: a session
// the monitor already knows reaches pausedFor while inject makes the server
// fail every request (500, 401, or too slow), for a while plus extra. The
// engine must try again once the server is back, and terminate it exactly
// once.
func (e *soakEnv) terminateFails(r *rand.Rand, sc *scenario, churn func(time.Duration), inject func(), extra time.Duration) {
	sc.add(pausedSpec(sc), "paula added paused", time.Now().Add(pausedFor))
	time.Sleep(pausedFor - 150*time.Millisecond)
	inject()
	churn(between(r, 400*time.Millisecond, 1200*time.Millisecond) + extra)
	e.sim.FailAll(0)
	e.sim.SetDelay(0)
}

// pausedSpec is one of paula's sessions, paused from the start.
func pausedSpec(sc *scenario) plexsim.SessionSpec {
	spec := sc.spec(userPauser, nil)
	spec.State = plexsim.StatePaused
	return spec
}

// badEvents sends a burst of malformed, truncated, mistyped and unknown
// events: the feed must skip them and carry on.
func (e *soakEnv) badEvents(r *rand.Rand) {
	bad := []struct{ name, data string }{
		{plex.EventPlaying, `{not json`},
		{plex.EventPlaying, `{"PlaySessionStateNotification":{"sessionKey":"1","state":"pau`},
		{plex.EventPlaying, `{"PlaySessionStateNotification":{"sessionKey":{"x":1},"viewOffset":"soon"}}`},
		{plex.EventPlaying, `{"PlaySessionStateNotification":[1,2,3]}`},
		{plex.EventPlaying, `{"PlaySessionStateNotification":{"sessionKey":"999998","state":"stopped"}}`},
		{plex.EventTranscodeUpdate, `{"TranscodeSession":"nope"}`},
		{plex.EventTranscodeUpdate, `{"TranscodeSession":{"key":"/transcode/sessions/unknown","progress":"NaN"}}`},
		{"activity", `{"Activity":{"uuid":"x"}}`},
		{"made.up.event", "\x00\x01\x02\xff\xfe"},
		{plex.EventPlaying, `{"NotificationContainer":{"PlaySessionStateNotification":[{"sessionKey":"999997","state":"playing"}]}}`},
		{plex.EventPlaying, "[" + strings.Repeat(`{"a":`, 2000)},
		{plex.EventPlaying, `{"PlaySessionStateNotification":{"sessionKey":"999996","guid":"` + strings.Repeat("y", 512<<10) + `"}}`},
	}
	for range 3 + r.IntN(6) {
		b := bad[r.IntN(len(bad))]
		e.sim.SendRaw(b.name, []byte(b.data))
	}
}

// checkTargets waits until every session a rule matches has been
// terminated: within actBound of when it matched, or of when the fault
// cleared if later.
func (e *soakEnv) checkTargets(sc *scenario, round int, fault string, cleared time.Time) {
	for {
		pending := sc.pendingTargets(e.sim.Calls())
		if len(pending) == 0 {
			return
		}
		now := time.Now()
		for _, tr := range pending {
			deadline := tr.due
			if cleared.After(deadline) {
				deadline = cleared
			}
			deadline = deadline.Add(actBound)
			if now.After(deadline) {
				e.t.Errorf("round %d, after %s: %v matched a rule %s ago and is not terminated (deadline %s after it matched or the fault cleared)\nconnection: %s\nengine: %+v\nhistory: %s",
					round, fault, tr, now.Sub(tr.due).Round(time.Millisecond), actBound, e.recentStatuses(), e.engine.Status(), e.historyOf(tr))
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *soakEnv) historyOf(tr *tracked) string {
	recs, err := e.hist.Query(history.Filter{})
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, rec := range recs {
		if rec.SessionKey == tr.key {
			out = append(out, fmt.Sprintf("[%s %s %s %s: %s]", rec.Time.Format("15:04:05.000"), rec.Rule, rec.Action, rec.Outcome, rec.Detail))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, " ")
}

// checkHistory checks the history against the calls: it reads cleanly;
// every successful terminate has its "done" record unless the answer was
// lost (then a later attempt says "already gone"); every "done" record
// has its successful call; only targets have terminate records.
func (e *soakEnv) checkHistory(sc *scenario, calls []plexsim.Call) {
	res, err := history.Read(e.hist.Dir(), history.Filter{})
	if err != nil {
		e.t.Fatal(err)
	}
	if res.Skipped != 0 {
		e.t.Errorf("history: %d unreadable lines without any crash", res.Skipped)
	}
	ok200 := map[string]bool{}
	for _, c := range calls {
		if c.Kind == plexsim.CallTerminate && c.Status == 200 {
			ok200[c.SessionID] = true
		}
	}
	last := map[string]string{} // Session id → outcome of its last terminate record
	logs := 0
	outcomes := map[string]int{}
	for _, rec := range res.Records {
		outcomes[rec.Action+" "+rec.Outcome]++
		switch rec.Action {
		case string(rules.ActionLog):
			logs++
			continue
		case string(rules.ActionTerminate):
		default:
			continue
		}
		tr := sc.byID[rec.SessionID]
		switch {
		case tr == nil || !tr.target():
			e.t.Errorf("history: terminate record for a session no rule matches: %+v", rec)
			continue
		case rec.Outcome == string(app.OutcomeDone) && !ok200[rec.SessionID]:
			e.t.Errorf("history: %v recorded done, but the server never answered 200: %+v", tr, rec)
		}
		last[rec.SessionID] = rec.Outcome
	}
	for id := range ok200 {
		if o := last[id]; o != string(app.OutcomeDone) && o != string(app.OutcomeGone) {
			e.t.Errorf("history: %v was terminated but its last terminate record says %q", sc.byID[id], o)
		}
	}
	var kinds []string
	for k, n := range outcomes {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	e.t.Logf("history: %d records (%d from the log-only rule), %d terminated sessions recorded; %s",
		len(res.Records), logs, len(last), strings.Join(kinds, ", "))
}
