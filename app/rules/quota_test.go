package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

func TestPeriodStart(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	tests := []struct {
		period string
		now    time.Time
		want   time.Time
	}{
		{PeriodDay, time.Date(2026, 3, 4, 23, 59, 0, 0, berlin), time.Date(2026, 3, 4, 0, 0, 0, 0, berlin)},
		{PeriodDay, time.Date(2026, 3, 5, 0, 0, 0, 0, berlin), time.Date(2026, 3, 5, 0, 0, 0, 0, berlin)},
		{"", time.Date(2026, 3, 29, 12, 0, 0, 0, berlin), time.Date(2026, 3, 29, 0, 0, 0, 0, berlin)},       // a DST day
		{PeriodWeek, time.Date(2026, 3, 4, 20, 0, 0, 0, berlin), time.Date(2026, 3, 2, 0, 0, 0, 0, berlin)}, // Wednesday → Monday
		{PeriodWeek, time.Date(2026, 3, 8, 23, 0, 0, 0, berlin), time.Date(2026, 3, 2, 0, 0, 0, 0, berlin)}, // Sunday → Monday before
		{PeriodWeek, time.Date(2026, 3, 9, 0, 30, 0, 0, berlin), time.Date(2026, 3, 9, 0, 0, 0, 0, berlin)}, // Monday
	}
	for _, tt := range tests {
		c := &compiled{Rule: Rule{Period: tt.period}}
		if got := periodStart(c, tt.now); !got.Equal(tt.want) {
			t.Errorf("periodStart(%q, %v) = %v, want %v", tt.period, tt.now, got, tt.want)
		}
	}
}

func TestQuotaValidation(t *testing.T) {
	tests := []struct {
		mod  func(*Rule)
		want string
	}{
		{func(r *Rule) { r.Quota = 0 }, `"quota"`},
		{func(r *Rule) { r.Quota = Duration(25 * time.Hour) }, `"quota"`},
		{func(r *Rule) { r.Period = "month" }, `"period"`},
		{func(r *Rule) { r.WarnBefore = r.Quota }, `"warnBefore"`},
	}
	for _, tt := range tests {
		f := rulesFile(rule(KindQuota, tt.mod))
		if err := f.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate = %v, want an error containing %s", err, tt.want)
		}
	}
	week := rule(KindQuota, func(r *Rule) { r.Quota, r.Period = Duration(20*time.Hour+24*time.Hour), PeriodWeek })
	if f := rulesFile(week); f.Validate() != nil {
		t.Errorf("a 44h weekly quota: %v", f.Validate())
	}
	if false {
	}
}

// play advances the clock by step n times, showing the engine the
// sessions after each step, as Plex's reports of playing sessions do.
func play(te *testEngine, n int, step time.Duration, ss ...app.Session) {
	for range n {
		te.clock.Add(step)
		te.Observe(update("home", ss...))
	}
}

// TestEngineQuota: alice may play 1h a day. Paused time does not count;
// 10 minutes before the limit the admin is warned; at the limit her
// stream is stopped; the count survives a restart, and the next day
// (local midnight) she plays again.
func TestEngineQuota(t *testing.T) {
	dir := t.TempDir()
	f := rulesFile(rule(KindQuota, func(r *Rule) {
		r.Name, r.Quota, r.WarnBefore = "hour a day", Duration(time.Hour), Duration(10*time.Minute)
	}))
	state := func(o *Options) { o.StateDir = dir }
	te := newTestEngine(t, f, state)
	a1, bob := sess("1"), sess("2", user("bob", "200"))
	te.actor.setLive(a1, bob)
	te.Observe(update("home", a1, bob))
	play(te, 20, time.Minute, a1) // 20 min
	pausedA := sess("1", paused(te.clock.Now()))
	play(te, 30, time.Minute, pausedA, bob) // paused: not counted (bob's 30 min count)
	play(te, 29, time.Minute, a1)           // 48 min: counted between two looks at a playing stream
	settle()
	if n := len(te.actor.Calls()); n != 0 {
		t.Fatalf("%d calls before the limit: %+v", n, te.actor.Calls())
	}
	if u := te.Usage(); len(u) != 2 || u[0].User != "alice" || u[0].Used.Std() != 48*time.Minute || u[0].Limit.Std() != time.Hour || u[1].Used.Std() != 29*time.Minute {
		t.Fatalf("Usage() = %+v, want alice at 48m of 1h, bob at 29m", u)
	}
	if items := te.Preview(&app.State{Servers: []*app.Snapshot{app.Snapshot{Server: "home"}.WithSessions(a1)}}); len(items) != 0 {
		t.Errorf("Preview under the limit = %+v, want nothing", items)
	}
	play(te, 2, time.Minute, a1) // 50 min: the warning
	w := te.hist.waitRecord(t, HistoryQuotaWarning, OutcomeNotified)
	if w.User != "alice" || !strings.Contains(w.Detail, "alice has 10m left of 1h a day") {
		t.Errorf("warning record = %+v", w)
	}
	waitFor(t, "the warning notification", 3*time.Second, func() bool { return len(te.notes.list()) == 1 })
	if n := te.notes.list()[0]; !strings.Contains(n.Body, "10m left") {
		t.Errorf("notification = %+v", n)
	}
	play(te, 10, time.Minute, a1) // 60 min; one warning a period
	calls := te.actor.waitCalls(t, 1)
	settle()
	if len(te.actor.Calls()) != 1 || len(te.notes.list()) != 2 {
		t.Errorf("calls %+v and notifications %+v: want alice's stream stopped, and the warning and the terminate notified", te.actor.Calls(), te.notes.list())
	}
	var aliceMsg string
	for _, c := range calls {
		if c.id == "id1" {
			aliceMsg = c.message
		}
	}
	if !strings.Contains(aliceMsg, "You have used up your playing time on this server: 1h played today; the limit is 1h a day, counted again from midnight.") {
		t.Errorf("alice's message = %q", aliceMsg)
	}
	te.hist.waitRecord(t, "terminate", "done")
	if items := te.Preview(&app.State{Servers: []*app.Snapshot{app.Snapshot{Server: "home"}.WithSessions(sess("9"))}}); len(items) != 1 || !strings.Contains(items[0].Reason, "1h played today") {
		t.Errorf("Preview past the limit = %+v, want alice's new stream with the time played", items)
	}

	// The count is saved on close and read at start.
	te.Close()
	var saved usageFile
	b, err := os.ReadFile(filepath.Join(dir, UsageFile))
	if err != nil || json.Unmarshal(b, &saved) != nil || len(saved.Usage) != 2 {
		t.Fatalf("usage file: %v %s", err, b)
	}
	te2 := newTestEngine(t, f, state)
	te2.clock.Add(80 * time.Minute) // the clock of the first engine, still that day
	a3 := sess("3")
	te2.actor.setLive(a3)
	te2.Observe(update("home", a3))
	if c := te2.actor.waitCalls(t, 1); c[0].id != "id3" {
		t.Errorf("after a restart: calls %+v, want id3 stopped at once", c)
	}
	// The next day she plays again.
	te2.clock.Add(3 * time.Hour) // 21:00 + 80m + 3h: past midnight
	a4 := sess("4")
	te2.actor.setLive(a4)
	te2.Observe(update("home", a4))
	play(te2, 5, time.Minute, a4)
	settle()
	if n := len(te2.actor.Calls()); n != 1 {
		t.Errorf("%d calls the next day, want 1 (a4 plays)", n)
	}
	if u := te2.Usage(); len(u) != 1 || u[0].Used.Std() != 5*time.Minute {
		t.Errorf("Usage() the next day = %+v, want alice at 5m", u)
	}
}

// TestEngineQuotaTranscodesOnlyAndWake: with onlyTranscodes only
// transcoding time counts, and the engine wakes by itself when the limit
// is reached (no update needed).
func TestEngineQuotaTranscodesOnlyAndWake(t *testing.T) {
	f := rulesFile(rule(KindQuota, func(r *Rule) { r.Quota, r.OnlyTranscodes = Duration(10*time.Minute), true }))
	te := newTestEngine(t, f)
	tc, direct := sess("1", transcoding), sess("2")
	te.actor.setLive(tc, direct)
	te.Observe(update("home", tc, direct))
	play(te, 9, time.Minute, tc, direct)
	te.mu.Lock()
	wake := te.nextWakeLocked()
	te.mu.Unlock()
	if want := te.clock.Now().Add(30 * time.Second); !wake.Equal(want) {
		t.Errorf("next wake = %v, want %v (the next count)", wake, want)
	}
	te.clock.Add(30 * time.Second)
	te.tick()
	te.clock.Add(30 * time.Second)
	te.tick()
	calls := te.actor.waitCalls(t, 1)
	settle()
	if len(te.actor.Calls()) != 1 || calls[0].id != "id1" {
		t.Errorf("calls = %+v, want only the transcode stopped", te.actor.Calls())
	}
	if !strings.Contains(calls[0].message, "10m transcoded today") {
		t.Errorf("message = %q, want the transcoding time", calls[0].message)
	}
}

func TestEvaluateQuotaNeverMatchesWithoutEngine(t *testing.T) {
	st := &app.State{Servers: []*app.Snapshot{app.Snapshot{Server: "home"}.WithSessions(sess("1"))}}
	items, err := Evaluate(rulesFile(rule(KindQuota)), st, t0)
	if err != nil || len(items) != 0 {
		t.Errorf("Evaluate = %+v, %v; want nothing (no time counted)", items, err)
	}
}

// TestQuotaFlush: the time used is saved every FlushEvery while it grows,
// and at once when a counted stream stops.
func TestQuotaFlush(t *testing.T) {
	dir := t.TempDir()
	te := newTestEngine(t, rulesFile(rule(KindQuota)), func(o *Options) { o.StateDir = dir })
	path := filepath.Join(dir, UsageFile)
	a1 := sess("1")
	te.Observe(update("home", a1))
	play(te, 1, 30*time.Second, a1)
	te.flushState(false)
	if _, err := os.Stat(path); err == nil {
		t.Fatal("saved before FlushEvery with the stream still playing")
	}
	te.clock.Add(10 * time.Second)
	te.Observe(update("home")) // the stream stopped
	te.flushState(false)
	var saved usageFile
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &saved) != nil || len(saved.Usage) != 1 || saved.Usage[0].Used.Std() != 30*time.Second {
		t.Fatalf("usage file after the stream stopped = %s (%v), want alice at 30s", b, err)
	}
	// Growing again: saved once FlushEvery has passed since the last save.
	te.Observe(update("home", a1))
	play(te, 2, 30*time.Second, a1)
	te.flushState(false)
	b, _ = os.ReadFile(path)
	if json.Unmarshal(b, &saved) != nil || saved.Usage[0].Used.Std() != 90*time.Second {
		t.Errorf("usage file a minute later = %s, want alice at 1m30s", b)
	}
}
