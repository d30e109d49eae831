package rules

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/diag"
	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// BenchmarkReaction measures the reaction time of a grace-0 terminate rule
// on loopback: from the moment the simulated server writes the SSE event
// that announces a new transcode (plexsim OnEventSent) to the moment the
// terminate request arrives there (plexsim Call.Time). The path in between
// is the real one: Feed → Monitor → fetch of /status/sessions (Plex events
// carry no user, player or Session id) → Hub → Engine.Observe → terminate.
//
// In the same run it measures the floor: the two round trips no
// implementation can avoid (GET /status/sessions, then terminate) made
// back to back on an idle second simulator with a plain plex.Client.
//
// Metrics: p50-ms and p99-ms of the reaction, floor-p50-ms and
// floor-p99-ms. Run with a fixed count for a stable p99, e.g.
//
//	go test -run '^$' -bench Reaction -benchtime 2000x ./app/rules/
func BenchmarkReaction(b *testing.B) {
	e := startSimEnv(b, plexsim.Options{PlexPass: true}, rulesFile(rule(KindTranscode)), nil)
	var mu sync.Mutex
	var starts []time.Time // transcodeSession.start events, in order sent
	e.sim.OnEventSent(func(name string, at time.Time) {
		if name == plex.EventTranscodeStart {
			mu.Lock()
			starts = append(starts, at)
			mu.Unlock()
		}
	})

	floorSim := plexsim.New(plexsim.Options{Token: simToken, PlexPass: true, PingInterval: time.Hour})
	if err := floorSim.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer floorSim.Close()
	fc, err := plex.NewClient(floorSim.URL(), simToken, plex.ClientInfo{ID: "floor"})
	if err != nil {
		b.Fatal(err)
	}
	defer fc.HTTPClient().CloseIdleConnections()
	ctx := context.Background()
	spec := plexsim.SessionSpec{User: "alice", Player: roku, Transcode: &plexsim.TranscodeSpec{Video: "transcode"}}
	if _, err := fc.Sessions(ctx); err != nil { // open the keep-alive connection, as the monitor has
		b.Fatal(err)
	}

	var reaction, floor []time.Duration
	i := 0
	for b.Loop() {
		mu.Lock()
		mark := len(starts)
		mu.Unlock()
		ref := e.sim.AddSession(spec)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		calls, err := e.sim.WaitCalls(wctx, i+1)
		cancel()
		if err != nil {
			b.Fatalf("iteration %d: no terminate: %v", i, err)
		}
		c := calls[i]
		if c.SessionID != ref.ID {
			b.Fatalf("iteration %d: terminate of %q, want %q", i, c.SessionID, ref.ID)
		}
		mu.Lock()
		if len(starts) <= mark {
			mu.Unlock()
			b.Fatalf("iteration %d: terminated before its event was sent (a fetch from the previous iteration saw it): not quiet", i)
		}
		sent := starts[mark]
		mu.Unlock()
		reaction = append(reaction, c.Time.Sub(sent))
		i++

		// The floor, on the idle simulator.
		fref := floorSim.AddSession(spec)
		t0 := time.Now()
		if _, err := fc.Sessions(ctx); err != nil {
			b.Fatal(err)
		}
		if err := fc.Terminate(ctx, fref.ID, "x"); err != nil {
			b.Fatal(err)
		}
		floor = append(floor, time.Since(t0))

		// Quiet down before the next session: the terminated one has left
		// the monitor and the fetches its end triggered (the hub's resync,
		// the monitor's check after "stopped") are over. Otherwise such a
		// fetch could see the next session before its event is even sent.
		deadline := time.Now().Add(5 * time.Second)
		for e.live(ref.Key) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Microsecond)
		}
		for n := e.mon.Fetches(); time.Now().Before(deadline); {
			time.Sleep(3 * time.Millisecond)
			m := e.mon.Fetches()
			if m == n {
				break
			}
			n = m
		}
		// The monitor starts at most 4 fetches in any second (a flood of
		// events costs a few fetches, app.MonitorConfig.MinFetchInterval);
		// each round made three or four. Sessions here arrive a second
		// apart, as on a real server, so each new one is fetched at once.
		time.Sleep(time.Second)
	}
	b.ReportMetric(pct(reaction, 50), "p50-ms")
	b.ReportMetric(pct(reaction, 99), "p99-ms")
	b.ReportMetric(pct(floor, 50), "floor-p50-ms")
	b.ReportMetric(pct(floor, 99), "floor-p99-ms")
}

// pct returns the p-th percentile (nearest rank) in milliseconds.
func pct(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	k := (len(s)*p + 99) / 100
	return float64(s[max(k, 1)-1].Microseconds()) / 1000
}

// BenchmarkObserve is the cost of one monitor update on the monitor's
// goroutine: 50 sessions (10 transcoding) against one rule of every kind,
// nothing left to act on (the steady state).
func BenchmarkObserve(b *testing.B) {
	var rs []Rule
	for _, k := range Kinds() {
		r := DefaultRule(k.Kind, string(k.Kind))
		r.Action = ActionLog
		rs = append(rs, r)
	}
	e := NewEngine(Options{Actor: newFakeActor()})
	defer e.Close()
	if err := e.SetRules(rulesFile(rs...)); err != nil {
		b.Fatal(err)
	}
	var ss []app.Session
	for i := range 50 {
		key := strconv.Itoa(i + 1)
		mods := []func(*app.Session){user("user"+strconv.Itoa(i%20), strconv.Itoa(100+i%20))}
		if i%5 == 0 {
			mods = append(mods, transcoding)
		}
		ss = append(ss, sess(key, mods...))
	}
	up := update("home", ss...)
	e.Observe(up) // act once on everything that matches
	for b.Loop() {
		e.Observe(up)
	}
}

// BenchmarkObserveDelta is the cost of one monitor update that changes one
// session (a pause, a resume) among 200, 2,000 and 5,000 on one server,
// with a realistic rules file of several kinds, nothing left to act on:
// the incremental pass ("incremental") against the full pass that reads
// every session ("full", as before issue 13), and the incremental pass
// with a storm rule for everyone added ("incremental+storm": a diagnostic
// rule asks the detector whom it flags) or a quota rule for everyone
// ("incremental+quota": the playing time of every user grows, counted
// lazily). The update honours the
// monitor's Delta contract (app.Update.Touched).
//
//	go test -run '^$' -bench ObserveDelta ./app/rules/
func BenchmarkObserveDelta(b *testing.B) {
	for _, n := range []int{200, 2000, 5000} {
		for _, mode := range []string{"incremental", "full", "incremental+storm", "incremental+quota"} {
			b.Run(fmt.Sprintf("sessions=%d/%s", n, mode), func(b *testing.B) {
				det := diag.New(diag.Options{})
				e := NewEngine(Options{Actor: incActor{}, Diag: det})
				defer e.Close()
				e.fullOnly = mode == "full"
				f := benchRules()
				if mode == "incremental+storm" {
					// A storm rule for everyone asks the detector about
					// every session at every update.
					f.Rules = append(f.Rules, rule(KindDiagnostic, func(r *Rule) { r.Name = "storm" }))
				}
				if mode == "incremental+quota" {
					// A quota rule for everyone: every user's playing time
					// grows at every update.
					f.Rules = append(f.Rules, rule(KindQuota, func(r *Rule) { r.Name, r.Quota, r.WarnBefore = "everyone", Duration(20*time.Hour), Duration(time.Hour) }))
				}
				if err := e.SetRules(f); err != nil {
					b.Fatal(err)
				}
				list := benchSessions(n)
				seq := uint64(1)
				e.Observe(app.Update{Snapshot: app.Snapshot{Server: "home", Conn: app.Conn{Status: app.Connected}, Seq: seq}.WithSessions(list...)})
				e.wg.Wait() // the first pass acted on what matched
				i := 0
				for b.Loop() {
					k := (i * 7919) % n // a different session each time
					s := &list[k]
					if s.State == "paused" {
						s.State = "playing"
					} else {
						s.State = "paused"
					}
					s.StateSince = time.Now()
					seq++
					i++
					e.Observe(app.Update{Snapshot: app.Snapshot{Server: "home", Conn: app.Conn{Status: app.Connected}, Seq: seq}.WithSessions(list...),
						Delta: true, Touched: []app.Session{*s}, Changes: []app.Change{{Kind: app.Changed, Session: *s}}})
				}
			})
		}
	}
}

// benchRules is a rules file an admin of a large shared server might
// keep: 4K transcodes, streams per user, transcodes per server, long
// pauses, remote streams logged, high bandwidth, a night window and a
// quota for two users.
func benchRules() File {
	return rulesFile(
		rule(KindSourceTranscode, func(r *Rule) { r.Name, r.Action = "4k", ActionStopTranscode }),
		rule(KindUserStreams, func(r *Rule) { r.Name, r.MaxStreams = "streams", 3 }),
		rule(KindServerTranscodes, func(r *Rule) { r.Name, r.MaxTranscodes = "transcodes", 5000 }),
		rule(KindPaused, func(r *Rule) { r.Name = "paused" }),
		rule(KindRemote, func(r *Rule) { r.Name, r.Action = "remote", ActionLog }),
		rule(KindBandwidth, func(r *Rule) { r.Name, r.Action, r.MaxKbps = "bandwidth", ActionNotify, 40000 }),
		rule(KindTimeWindow, func(r *Rule) { r.Name, r.Schedule = "night", &Schedule{From: "03:00", To: "03:01"} }),
		rule(KindQuota, func(r *Rule) { r.Name, r.Scope.Users = "kids", []string{"kid1", "kid2"} }),
	)
}

// benchSessions are n sessions of n/2 users, one in five transcoding,
// one in ten of them 4K HEVC.
func benchSessions(n int) []app.Session {
	list := make([]app.Session, n)
	start := time.Now().Add(-time.Hour)
	for i := range list {
		s := sess(strconv.Itoa(i + 1))
		s.User, s.UserID = "user"+strconv.Itoa(i/2), strconv.Itoa(1000+i/2)
		s.FirstSeen, s.StateSince = start.Add(time.Duration(i)*time.Millisecond), start
		if i%5 == 0 {
			transcoding(&s)
		}
		if i%50 == 0 {
			uhdHEVC(&s)
		}
		list[i] = s
	}
	return list
}
