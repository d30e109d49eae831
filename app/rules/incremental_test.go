package rules

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/diag"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/plex"
)

// TestIncrementalEqualsFull drives two engines through the same random
// monitor updates of two servers (Delta updates touching or ending a few
// sessions, new sessions, fetches, gaps in Seq, connections lost and
// back), timer ticks, pauses, rule changes and diagnostics, with a rules
// file holding every kind and every action. One engine follows the Delta
// updates (the incremental pass); the other reads every update whole
// (fullOnly, the reference). The jobs of every pass, the history they
// write and the engine's state (grace delays, acted on, claimed,
// cool-downs, quota counts, wake times) must be the same after every step.
func TestIncrementalEqualsFull(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			runIncrementalEqualsFull(t, seed, 1000, 64, false)
		})
	}
	// From a Sunday evening: the week quota's period ends at Monday 00:00.
	t.Run("across Monday", func(t *testing.T) {
		t.Parallel()
		runIncrementalEqualsFullFrom(t, time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC), 7, 1000, 64, false)
	})
	// Rules that read most sessions read them whole (incView.whole).
	t.Run("whole", func(t *testing.T) {
		t.Parallel()
		runIncrementalEqualsFull(t, 4, 1000, 1, false)
	})
	// A DiagSource that cannot list whom it flags: diagnostic rules read
	// every session in their scope.
	t.Run("not a DiagLister", func(t *testing.T) {
		t.Parallel()
		runIncrementalEqualsFull(t, 5, 1000, 64, true)
	})
}

func runIncrementalEqualsFull(t *testing.T, seed uint64, steps, wholeAt int, notLister bool) {
	runIncrementalEqualsFullFrom(t, t0, seed, steps, wholeAt, notLister)
}

func runIncrementalEqualsFullFrom(t *testing.T, start time.Time, seed uint64, steps, wholeAt int, notLister bool) {
	rng := rand.New(rand.NewPCG(seed, 99))
	clock := start
	now := func() time.Time { return clock }
	diag := &flagDiag{flags: map[string]bool{}}
	var src DiagSource = diag
	if notLister {
		src = plainDiag{diag}
	}
	file := incRulesFile()
	type side struct {
		e      *Engine
		hist   *stepHistory
		jobs   []string
		passes int            // incremental passes
		byRule map[string]int // jobs of incremental passes per rule
		warns  int            // quota warnings of incremental passes
	}
	mk := func(full bool) *side {
		sd := &side{hist: &stepHistory{}, byRule: map[string]int{}}
		sd.e = NewEngine(Options{Actor: &incActor{}, History: sd.hist, Clock: now, Location: time.UTC, Diag: src})
		sd.e.fullOnly, sd.e.inc.wholeAt = full, wholeAt
		sd.e.passed = func(jobs []job, incremental bool) {
			if incremental {
				sd.passes++
			}
			for _, j := range jobs {
				sd.jobs = append(sd.jobs, jobString(j))
				if incremental {
					sd.byRule[j.rule.Name]++
					if j.note != "" {
						sd.warns++
					}
				}
			}
		}
		t.Cleanup(sd.e.Close)
		if err := sd.e.SetRules(file); err != nil {
			t.Fatal(err)
		}
		return sd
	}
	inc, full := mk(false), mk(true)
	sides := []*side{inc, full}
	g := &updateGen{rng: rng, servers: []*genServer{newGenServer("home"), newGenServer("away")}}
	for step := range steps {
		clock = clock.Add(time.Duration(rng.IntN(40)) * time.Second)
		if rng.IntN(200) == 0 {
			clock = clock.Add(11 * time.Minute) // past forgetAfter: the engines prune
		}
		if rng.IntN(40) == 0 {
			clock = clock.Add(-time.Duration(rng.IntN(300)) * time.Second) // the wall clock is set back
		}
		if rng.IntN(10) == 0 {
			diag.shuffle(rng)
		}
		var what string
		switch r := rng.IntN(100); {
		case r < 4:
			what = "tick"
			for _, sd := range sides {
				sd.e.tick()
			}
		case r < 6:
			p := rng.IntN(4) == 0
			what = fmt.Sprint("paused ", p)
			for _, sd := range sides {
				sd.e.SetPaused(p)
			}
		case r < 9:
			f := file
			f.Rules = slices.Clone(f.Rules)
			i := rng.IntN(len(f.Rules))
			f.Rules[i].Enabled = rng.IntN(3) != 0
			f.DryRun = rng.IntN(8) == 0
			what = fmt.Sprintf("rules: %s enabled %v, dry run %v", f.Rules[i].Name, f.Rules[i].Enabled, f.DryRun)
			for _, sd := range sides {
				if err := sd.e.SetRules(f); err != nil {
					t.Fatal(err)
				}
			}
		default:
			up := g.next(clock)
			what = fmt.Sprintf("update %s seq %d delta %v touched %d changes %d conn %v", up.Snapshot.Server, up.Snapshot.Seq, up.Delta, len(up.Touched), len(up.Changes), up.Snapshot.Conn.Status)
			for _, sd := range sides {
				sd.e.Observe(up)
			}
		}
		for _, sd := range sides {
			sd.e.wg.Wait() // the actions of this step are over
		}
		a, b := inc.e.dumpState(), full.e.dumpState()
		ja, jb := sortedTake(&inc.jobs), sortedTake(&full.jobs)
		ha, hb := inc.hist.take(), full.hist.take()
		if d := firstDiff(ja, jb); d != "" {
			t.Fatalf("step %d (%s): jobs differ: %s", step, what, d)
		}
		if d := firstDiff(ha, hb); d != "" {
			t.Fatalf("step %d (%s): history differs: %s", step, what, d)
		}
		if a != b {
			t.Fatalf("step %d (%s): state differs:\nincremental:\n%s\nfull:\n%s", step, what, a, b)
		}
	}
	if clock.YearDay() == start.YearDay() {
		t.Errorf("the run from %v ended at %v: it does not cross midnight", start, clock)
	}
	// The run must have exercised the incremental path, every rule acting
	// in it.
	if inc.passes < steps/2 || full.passes != 0 {
		t.Errorf("%d incremental passes in %d steps (the reference: %d): want most (none)", inc.passes, steps, full.passes)
	}
	if inc.warns == 0 {
		t.Errorf("no quota warning in an incremental pass: the run does not exercise them")
	}
	for _, r := range file.Rules {
		if inc.byRule[r.Name] == 0 {
			t.Errorf("rule %q never acted in an incremental pass: the run does not exercise it (jobs per rule: %v)", r.Name, inc.byRule)
		}
	}
}

// TestIncrementalRetryAfterActedDropped: a terminate that fails for a
// reason that may pass is retried after RetryAfter, also when a pass ran
// while it was under way (the incremental pass then dropped the stream,
// acted on, from the rule's candidates).
func TestIncrementalRetryAfterActedDropped(t *testing.T) {
	for _, full := range []bool{false, true} {
		t.Run(fmt.Sprint("full pass ", full), func(t *testing.T) {
			te := newTestEngine(t, rulesFile(rule(KindTranscode)))
			te.fullOnly = full
			gate := make(chan struct{})
			var n int
			te.actor.terminate = func(app.Session) app.Result {
				if n++; n == 1 {
					<-gate
					return app.Result{Outcome: app.OutcomeFailed, Err: plex.ErrServer}
				}
				return app.Result{Outcome: app.OutcomeDone}
			}
			s1, s2 := sess("1", transcoding), sess("2")
			up := func(seq uint64, delta bool, touched ...app.Session) app.Update {
				return app.Update{Snapshot: app.Snapshot{Server: "home", Conn: app.Conn{Status: app.Connected}, Seq: seq}.WithSessions(s1, s2),
					Delta: delta, Touched: touched}
			}
			te.Observe(up(1, false)) // terminates s1: the server does not answer yet
			te.actor.waitCalls(t, 1)
			te.Observe(up(2, true, s2)) // a pass while the terminate is under way
			close(gate)                 // it fails: retry after RetryAfter
			deadline := time.Now().Add(3 * time.Second)
			for te.Status().Pending == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			te.clock.Add(DefaultRetryAfter)
			te.Observe(up(3, true))
			if calls := te.actor.waitCalls(t, 2); calls[1].id != "id1" {
				t.Errorf("calls %+v, want a second terminate of id1", calls)
			}
		})
	}
}

// incRulesFile has a rule of every kind, with every action.
func incRulesFile() File {
	rs := []Rule{
		rule(KindTranscode, func(r *Rule) { r.Name, r.Scope.Servers = "transcode", []string{"home"} }),
		rule(KindSourceTranscode, func(r *Rule) { r.Name, r.Action = "4k", ActionStopTranscode }),
		rule(KindBandwidth, func(r *Rule) { r.Name, r.Action, r.MaxKbps = "bandwidth", ActionNotify, 25000 }),
		rule(KindPaused, func(r *Rule) {
			r.Name, r.PausedFor, r.Grace = "paused", Duration(3*time.Minute), Duration(30*time.Second)
		}),
		rule(KindPaused, func(r *Rule) {
			r.Name, r.PausedFor, r.Action, r.Scope.Users = "paused user", Duration(90*time.Second), ActionTerminateUser, []string{"erin", "bob"}
		}),
		rule(KindUserStreams, func(r *Rule) { r.Name, r.MaxStreams, r.CoolDown = "streams", 2, Duration(5*time.Minute) }),
		rule(KindUserStreams, func(r *Rule) {
			r.Name, r.MaxStreams, r.CountIPs, r.Pick, r.Action, r.Scope.Servers = "addresses", 1, true, PickOldest, ActionLog, []string{"away"}
		}),
		rule(KindServerTranscodes, func(r *Rule) { r.Name, r.MaxTranscodes, r.Action = "server transcodes", 3, ActionTerminateUser }),
		rule(KindRemote, func(r *Rule) {
			r.Name, r.Action, r.Exempt.Users, r.AllowNetworks = "remote", ActionLog, []string{"carol"}, []string{"192.0.2.0/24"}
		}),
		rule(KindAddress, func(r *Rule) { r.Name = "address" }),
		rule(KindPlayer, func(r *Rule) {
			r.Name, r.Players, r.OnlyTranscodes, r.Action, r.Grace = "roku", []string{"roku"}, true, ActionTerminateUser, Duration(20*time.Second)
		}),
		rule(KindTimeWindow, func(r *Rule) {
			r.Name, r.Action, r.Schedule, r.Scope.Users = "night", ActionLog, &Schedule{From: "20:30", To: "22:00"}, []string{"dave"}
		}),
		rule(KindDiagnostic, func(r *Rule) { r.Name = "storm" }),
		rule(KindDiagnostic, func(r *Rule) { r.Name, r.Condition, r.Action = "collision", ConditionCollision, ActionLog }),
		rule(KindQuota, func(r *Rule) {
			r.Name, r.Quota, r.WarnBefore, r.Scope.Users = "quota", Duration(20*time.Minute), Duration(5*time.Minute), []string{"alice", "bob"}
		}),
		// Small limits: users cross the warning and the limit (and the
		// day's reset at midnight) during a run.
		rule(KindQuota, func(r *Rule) {
			r.Name, r.Quota, r.WarnBefore, r.Action, r.Scope.Users = "quota short", Duration(3*time.Minute), Duration(2*time.Minute), ActionLog, []string{"carol", "dave", "erin"}
		}),
		rule(KindQuota, func(r *Rule) {
			r.Name, r.Quota, r.WarnBefore, r.Period, r.OnlyTranscodes, r.Action, r.Scope.Servers = "quota week", Duration(time.Hour), Duration(50*time.Minute), PeriodWeek, true, ActionTerminateUser, []string{"away"}
		}),
	}
	return rulesFile(rs...)
}

func jobString(j job) string {
	return fmt.Sprintf("%s|%s|%s|reason=%s|message=%s|dry=%v|block=%s|note=%s|%+v", j.rule.Name, j.s.Key(), ident(j.s), j.reason, j.message, j.dryRun, j.blockOf, j.note, j.s)
}

func sortedTake(p *[]string) []string {
	out := *p
	*p = nil
	slices.Sort(out)
	return out
}

func firstDiff(a, b []string) string {
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return fmt.Sprintf("%d vs %d; first difference:\nincremental: %s\nfull:        %s", len(a), len(b), x, y)
		}
	}
	return ""
}

// dumpState writes the engine's rule state in words, sorted.
func (e *Engine) dumpState() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var lines []string
	add := func(format string, a ...any) { lines = append(lines, fmt.Sprintf(format, a...)) }
	for k, p := range e.pending {
		add("pending %s %s due %s", k.rule, k.session, p.due)
	}
	for k, at := range e.acted {
		add("acted %q %s at %s", k.rule, k.session, at)
	}
	for id, at := range e.claimed {
		add("claimed %s at %s", id, at)
	}
	for id, at := range e.seen {
		add("seen %s at %s", id, at)
	}
	for k, at := range e.retryAt {
		add("retry %q %s at %s", k.rule, k.session, at)
	}
	for k, u := range e.counted {
		add("counted %s %s for %v", k.rule, k.session, u)
	}
	for k, q := range e.usage {
		add("usage stored %s %v %+v", k.rule, k.user, *q)
	}
	for k, l := range e.live {
		add("usage live %s %v %+v", k.rule, k.user, *l)
	}
	e.usageKeysLocked(func(k usageKey) {
		q, n, ok := e.usageViewLocked(k)
		add("usage now %s %v %v %d %+v", k.rule, k.user, ok, n, q)
	})
	for name, m := range e.quotaMarks {
		add("quota mark %s %+v", name, m)
	}
	for _, b := range e.blocks {
		add("block %s %s %s %s %s..%s", b.Rule, strings.ToLower(b.User), b.Scope, b.Reason, b.Since, b.Until) // (User's case and Allowed depend on which action ends first)
	}
	for id, v := range e.verifying {
		add("verifying %s stage %d until %s", id, v.stage, v.deadline)
	}
	slices.Sort(lines)
	lines = append(lines, fmt.Sprintf("wake %s account %s next %s paused %v seen %s step %s at %s dirty %v soon %v", e.wakeAt, e.accountAt, e.nextWakeLocked(), e.paused,
		e.seenTime, e.seenStep, e.lastLook, e.usageDirty, e.flushSoon))
	return strings.Join(lines, "\n")
}

// incActor carries out actions at once; some fail in a way that may pass
// (a retry follows), the same ones every time.
type incActor struct{}

func (incActor) Terminate(_ context.Context, s app.Session, _ string) app.Result {
	if n, _ := strconv.Atoi(s.SessionKey); n%7 == 3 {
		return app.Result{Outcome: app.OutcomeFailed, Err: plex.ErrServer}
	}
	return app.Result{Outcome: app.OutcomeDone}
}

func (incActor) StopTranscode(_ context.Context, s app.Session) app.Result {
	if n, _ := strconv.Atoi(s.SessionKey); n%5 == 2 {
		return app.Result{Outcome: app.OutcomeFailed, Err: plex.ErrServer}
	}
	return app.Result{Outcome: app.OutcomeDone}
}

func (incActor) Find(string) (app.Session, bool) { return app.Session{}, false }

// stepHistory keeps the records of one step, without what depends on
// the real time.
type stepHistory struct {
	mu   sync.Mutex
	recs []string
}

func (h *stepHistory) Append(r history.Record) error {
	r.LatencyMs, r.Intent = 0, ""
	if r.Action == HistoryVerify {
		r.Detail = ""
	}
	h.mu.Lock()
	h.recs = append(h.recs, fmt.Sprintf("%+v", r))
	h.mu.Unlock()
	return nil
}

func (h *stepHistory) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return sortedTake(&h.recs)
}

// flagDiag flags players and users as storming or colliding.
type flagDiag struct{ flags map[string]bool }

func (d *flagDiag) Storming(server, id string) bool { return d.flags["storm "+server+"/"+id] }
func (d *flagDiag) StormingUser(server, user string) bool {
	return d.flags["stormuser "+server+"/"+user]
}
func (d *flagDiag) Colliding(server, id string) bool { return d.flags["collide "+server+"/"+id] }

// plainDiag hides flagDiag's Flagged: a DiagSource only.
type plainDiag struct{ d *flagDiag }

func (p plainDiag) Storming(server, id string) bool       { return p.d.Storming(server, id) }
func (p plainDiag) StormingUser(server, user string) bool { return p.d.StormingUser(server, user) }
func (p plainDiag) Colliding(server, id string) bool      { return p.d.Colliding(server, id) }

// Flagged makes flagDiag a DiagLister: the incremental pass asks it whom
// it flags.
func (d *flagDiag) Flagged() diag.Flags {
	var fl diag.Flags
	for k, on := range d.flags {
		if !on {
			continue
		}
		kind, rest, _ := strings.Cut(k, " ")
		srv, id, _ := strings.Cut(rest, "/")
		m := map[string]*map[diag.FlagKey]bool{"storm": &fl.Storming, "stormuser": &fl.StormingUsers, "collide": &fl.Colliding}[kind]
		if *m == nil {
			*m = map[diag.FlagKey]bool{}
		}
		(*m)[diag.FlagKey{Server: srv, ID: id}] = true
	}
	return fl
}

func (d *flagDiag) shuffle(rng *rand.Rand) {
	clear(d.flags)
	for range rng.IntN(3) {
		srv := []string{"home", "away"}[rng.IntN(2)]
		switch rng.IntN(3) {
		case 0:
			d.flags["storm "+srv+"/m"+strconv.Itoa(rng.IntN(8))] = true
		case 1:
			d.flags["stormuser "+srv+"/"+incUsers[rng.IntN(len(incUsers))][0]] = true
		default:
			d.flags["collide "+srv+"/m"+strconv.Itoa(rng.IntN(8))] = true
		}
	}
}

// incUsers are the viewers of the random sessions: name, account id.
var incUsers = [][2]string{{"alice", "100"}, {"bob", "101"}, {"carol", "102"}, {"dave", ""}, {"Dave", ""}, {"(unknown user)", ""}, {"erin", "104"}}

// genServer is a server's session list as a monitor keeps it.
type genServer struct {
	name  string
	seq   uint64
	live  bool
	byKey map[string]app.Session
}

func newGenServer(name string) *genServer {
	return &genServer{name: name, live: true, byKey: map[string]app.Session{}}
}

// updateGen makes monitor updates that keep the Delta contract.
type updateGen struct {
	rng     *rand.Rand
	servers []*genServer
	n       int
}

func (g *updateGen) newSession(srv string, now time.Time) app.Session {
	g.n++
	s := sess(strconv.Itoa(g.n))
	s.Server, s.FirstSeen = srv, now
	if g.rng.IntN(3) == 0 {
		s.FirstSeen = now.Add(-time.Duration(g.rng.IntN(3)) * time.Second) // ties and older ones
	}
	g.mutate(&s, now)
	return s
}

// mutate changes some of s's values as events and fetches do.
func (g *updateGen) mutate(s *app.Session, now time.Time) {
	r := g.rng
	if r.IntN(3) == 0 {
		u := incUsers[r.IntN(len(incUsers))]
		s.User, s.UserID = u[0], u[1]
	}
	if r.IntN(2) == 0 {
		st := []string{"playing", "paused", "buffering"}[r.IntN(3)]
		if st != s.State {
			s.State, s.StateSince = st, now
		}
	}
	if r.IntN(3) == 0 {
		*s = stripTranscode(*s)
		switch r.IntN(6) {
		case 0, 1:
			transcoding(s)
		case 2:
			audioOnly(s)
		case 3:
			burnOnlyTranscode(s)
		}
		if r.IntN(4) == 0 {
			uhdHEVC(s)
		}
		// the library read of a transcode's source under way, or done
		s.SourcePending = s.Decision == plex.Transcode && r.IntN(3) == 0
	}
	if r.IntN(4) == 0 {
		s.Location, s.Player.Local = "wan", false
		s.Player.Address = []string{"203.0.113.5", "198.51.100.7", "192.0.2.9", "203.0.113.6", ""}[r.IntN(5)]
		if r.IntN(3) == 0 {
			lan(s)
		}
	}
	if r.IntN(4) == 0 {
		p := [][2]string{{"Plex Web", "Firefox"}, {"Plex for Roku", "Roku"}, {"Plex for Android", "Android"}}[r.IntN(3)]
		s.Player.Product, s.Player.Platform = p[0], p[1]
		s.Player.MachineIdentifier = "m" + strconv.Itoa(r.IntN(8))
	}
	if r.IntN(3) == 0 {
		s.BandwidthKbps = int64(1000 + r.IntN(30000))
	}
	s.Leaving, s.Kind = "", plex.KindPlayback
	switch r.IntN(30) {
	case 0:
		s.Leaving = "stopped"
	case 1:
		s.Kind = plex.KindPreroll
	}
}

func stripTranscode(s app.Session) app.Session {
	s.Decision, s.VideoDecision, s.AudioDecision, s.Short = plex.DirectPlay, "", "", "Direct Play"
	s.VideoTranscode, s.AudioOnly, s.SubtitleBurn, s.SubtitleDecision, s.TranscodeKey = false, false, false, "", ""
	s.SourceResolution, s.SourceHeight, s.SourceVideoCodec, s.TargetResolution = "1080p", 1080, "h264", "1080p"
	return s
}

func (gs *genServer) list() []app.Session {
	out := make([]app.Session, 0, len(gs.byKey))
	for _, s := range gs.byKey {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b app.Session) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return strings.Compare(a.Key(), b.Key())
	})
	return out
}

// next makes one update of a random server.
func (g *updateGen) next(now time.Time) app.Update {
	r := g.rng
	gs := g.servers[r.IntN(len(g.servers))]
	gs.seq++
	up := app.Update{Delta: true}
	var touched []string
	keys := make([]string, 0, len(gs.byKey))
	for k := range gs.byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	switch x := r.IntN(100); {
	case x < 5: // the connection is lost or back; nothing else changes
		gs.live = !gs.live
	case x < 12 || len(keys) < 8: // a fetch: anything may change
		up.Delta = false
		for _, k := range keys {
			s := gs.byKey[k]
			switch r.IntN(12) {
			case 0:
				delete(gs.byKey, k)
				up.Changes = append(up.Changes, app.Change{Kind: app.Ended, Session: s})
				continue
			case 1, 2:
				g.mutate(&s, now)
			}
			gs.byKey[k] = s
		}
		for range r.IntN(4) + 1 {
			s := g.newSession(gs.name, now)
			gs.byKey[s.Key()] = s
		}
	case x < 20: // a session ends
		k := keys[r.IntN(len(keys))]
		up.Changes = append(up.Changes, app.Change{Kind: app.Ended, Session: gs.byKey[k]})
		delete(gs.byKey, k)
	case x < 26: // a new session announced with its values
		s := g.newSession(gs.name, now)
		gs.byKey[s.Key()] = s
		touched = append(touched, s.Key())
	case x < 29: // an update this engine missed: a gap in Seq
		gs.seq++
		k := keys[r.IntN(len(keys))]
		s := gs.byKey[k]
		g.mutate(&s, now)
		gs.byKey[k] = s
		touched = append(touched, k)
	case x < 33: // play positions only: nothing the rules read
	default: // events change one to three sessions
		for range r.IntN(3) + 1 {
			k := keys[r.IntN(len(keys))]
			s := gs.byKey[k]
			g.mutate(&s, now)
			gs.byKey[k] = s
			if !slices.Contains(touched, k) {
				touched = append(touched, k)
			}
		}
	}
	status := app.Connected
	if !gs.live {
		status = app.Reconnecting
	}
	list := gs.list()
	up.Snapshot = app.Snapshot{Server: gs.name, Conn: app.Conn{Status: status}, Seq: gs.seq, Time: now}.WithSessions(list...)
	if up.Delta {
		for _, s := range list {
			if slices.Contains(touched, s.Key()) {
				up.Touched = append(up.Touched, s)
			}
		}
	}
	return up
}

// TestRetryFindsTheStreamGone: a terminate that failed for a reason that
// may pass (the server did not answer in time, and may still carry it
// out) is followed by a "gone" terminate record when the stream ends
// before the retry, so the history does not end on the failure; a stream
// that stays listed but stops matching gets no such record.
func TestRetryFindsTheStreamGone(t *testing.T) {
	for _, tc := range []struct {
		name     string
		full     bool
		ends     bool // the stream ends (else it stops transcoding)
		wantGone bool
	}{
		{"ends, incremental pass", false, true, true},
		{"ends, full pass", true, true, true},
		{"stops matching, incremental pass", false, false, false},
		{"stops matching, full pass", true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			te := newTestEngine(t, rulesFile(rule(KindTranscode)))
			te.fullOnly = tc.full
			te.actor.terminate = func(app.Session) app.Result {
				return app.Result{Outcome: app.OutcomeFailed, Err: plex.ErrTimeout}
			}
			s1, s2 := sess("1", transcoding), sess("2")
			up := func(seq uint64, delta bool, ss []app.Session, changes []app.Change, touched ...app.Session) app.Update {
				return app.Update{Snapshot: app.Snapshot{Server: "home", Conn: app.Conn{Status: app.Connected}, Seq: seq}.WithSessions(ss...),
					Delta: delta, Touched: touched, Changes: changes}
			}
			te.Observe(up(1, false, []app.Session{s1, s2}, nil)) // terminates s1: no answer in time
			te.hist.waitRecord(t, string(ActionTerminate), string(app.OutcomeFailed))
			deadline := time.Now().Add(3 * time.Second)
			for te.Status().Pending == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if te.Status().Pending == 0 {
				t.Fatal("no retry pending after the failed terminate")
			}
			if tc.ends {
				te.Observe(up(2, true, []app.Session{s2}, []app.Change{{Kind: app.Ended, Session: s1}}))
			} else {
				direct := sess("1")
				te.Observe(up(2, true, []app.Session{direct, s2}, nil, direct))
			}
			settle()
			if got := te.Status().Pending; got != 0 {
				t.Errorf("%d pending after the stream stopped matching, want 0", got)
			}
			var got []string
			for _, r := range te.hist.all() {
				got = append(got, r.Action+" "+r.Outcome)
			}
			want := []string{"terminate sending", "terminate failed"}
			if tc.wantGone {
				want = append(want, "terminate "+string(app.OutcomeGone))
			}
			if !slices.Equal(got, want) {
				t.Errorf("history %q, want %q", got, want)
			}
			if n := len(te.actor.Calls()); n != 1 {
				t.Errorf("%d terminate calls, want 1 (nothing is sent for a stream that is gone)", n)
			}
		})
	}
}
