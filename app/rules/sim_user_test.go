package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// TestSimTerminateUserAndCoolDown runs over 127.0.0.1: a transcode of
// carol's stops all her streams (each with its player's message), starts a
// 30-minute cool-down, and her next stream is stopped at once with the time
// she can play again; dave plays on.
func TestSimTerminateUserAndCoolDown(t *testing.T) {
	f := rulesFile(rule(KindTranscode, func(r *Rule) {
		r.Name, r.Action, r.CoolDown = "No transcodes", ActionTerminateUser, Duration(30*time.Minute)
	}))
	e := startSimEnv(t, plexsim.Options{PlexPass: true}, f, func(o *Options) { o.Location, o.StateDir = time.UTC, t.TempDir() })
	direct := e.sim.AddSession(plexsim.SessionSpec{User: "carol", UserID: "7", Title: "Direct", Player: roku})
	dave := e.sim.AddSession(plexsim.SessionSpec{User: "dave", UserID: "8", Title: "Dave's"})
	time.Sleep(100 * time.Millisecond) // both listed before the transcode starts
	tc := e.sim.AddSession(plexsim.SessionSpec{User: "carol", UserID: "7", Title: "Converted", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	calls := e.waitCalls(t, 2)
	byID := map[string]string{}
	for _, c := range calls {
		byID[c.SessionID] = c.Reason
	}
	if _, ok := byID[dave.ID]; ok || len(byID) != 2 {
		t.Fatalf("terminated %v, want carol's two streams only", byID)
	}
	if !strings.Contains(byID[direct.ID], "On Roku") {
		t.Errorf("message on carol's Roku = %q, want the Roku instructions", byID[direct.ID])
	}
	for _, id := range []string{tc.ID, direct.ID} {
		if r := e.waitRecord(t, string(ActionTerminateUser), "done", id); r.Rule != "No transcodes" || r.User != "carol" {
			t.Errorf("record = %+v", r)
		}
	}
	start := e.waitRecord(t, HistoryBlockStart, OutcomeStarted, "")
	// As the engine writes it: "00:08" today, "Sat 00:08" on another day
	// (a run within 30 minutes of midnight).
	end := e.engine.Blocks()[0].Until.UTC()
	until := end.Format("15:04")
	if y, m, d := time.Now().UTC().Date(); end.Year() != y || end.Month() != m || end.Day() != d {
		until = end.Format("Mon 15:04")
	}
	if !strings.Contains(start.Detail, "until "+until) {
		t.Errorf("block start detail = %q, want until %s", start.Detail, until)
	}
	waitFor(t, "carol's streams gone", 3*time.Second, func() bool { return !e.live(tc.Key) && !e.live(direct.Key) })

	again := e.sim.AddSession(plexsim.SessionSpec{User: "carol", UserID: "7", Title: "Again"})
	calls = e.waitCalls(t, 3)
	if c := calls[2]; c.SessionID != again.ID || !strings.Contains(c.Reason, "You can play again at "+until+".") {
		t.Errorf("third call = %+v, want carol's new stream stopped with the time she can play again (%s)", c, until)
	}
	if r := e.waitRecord(t, HistoryBlock, "done", again.ID); r.Rule != "No transcodes" {
		t.Errorf("block record = %+v", r)
	}
	if !e.live(dave.Key) {
		t.Error("dave's stream was stopped")
	}
}

// TestSimQuota: carol may play 2 minutes a day (on a fake clock); the
// time counted from what the server reports stops her stream at the limit.
func TestSimQuota(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)}
	f := rulesFile(rule(KindQuota, func(r *Rule) { r.Name, r.Quota = "two minutes", Duration(2*time.Minute) }))
	e := startSimEnv(t, plexsim.Options{PlexPass: true}, f, func(o *Options) { o.Clock, o.Location = clock.Now, time.UTC })
	s := e.sim.AddSession(plexsim.SessionSpec{User: "carol", UserID: "7", Title: "Long film", DurationMs: int64(time.Hour / time.Millisecond)})
	waitFor(t, "listed", 3*time.Second, func() bool { return e.live(s.Key) })
	deadline := time.Now().Add(5 * time.Second)
	for len(e.sim.Calls()) == 0 && time.Now().Before(deadline) {
		clock.Add(20 * time.Second)
		e.sim.Advance(time.Second) // a playing report
		time.Sleep(40 * time.Millisecond)
	}
	calls := e.waitCalls(t, 1)
	if calls[0].SessionID != s.ID || !strings.Contains(calls[0].Reason, "played today; the limit is 2m a day") {
		t.Errorf("call = %+v, want carol's stream stopped with her quota", calls[0])
	}
	if u := e.engine.Usage(); len(u) != 1 || u[0].Used.Std() < 2*time.Minute || u[0].Used.Std() > 3*time.Minute {
		t.Errorf("Usage() = %+v, want carol at 2–3 minutes", u)
	}
	recs, _ := e.hist.Query(history.Filter{Action: "terminate"})
	if len(recs) == 0 || recs[len(recs)-1].Rule != "two minutes" {
		t.Errorf("history = %+v, want a terminate by rule \"two minutes\"", recs)
	}
}
