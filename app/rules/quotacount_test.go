package rules

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

// deltaFeed makes the monitor's Delta updates of one server from its
// successive session lists (app.Update.Touched, Ended changes).
type deltaFeed struct {
	seq  uint64
	prev map[string]app.Session
}

func (f *deltaFeed) next(ss ...app.Session) app.Update {
	f.seq++
	up := update("home", ss...)
	up.Snapshot.Seq, up.Delta = f.seq, f.prev != nil
	now := map[string]app.Session{}
	for _, s := range ss {
		now[s.Key()] = s
		if p, ok := f.prev[s.Key()]; !ok || !reflect.DeepEqual(p, s) {
			up.Touched = append(up.Touched, s)
		}
	}
	for k, p := range f.prev {
		if _, ok := now[k]; !ok {
			up.Changes = append(up.Changes, app.Change{Kind: app.Ended, Session: p})
		}
	}
	f.prev = now
	return up
}

// TestQuotaCounting: the time counted is the time between two looks at
// a stream seen playing at both, per stream; a gap longer than
// maxCountGap and a clock set back count nothing; a new day (week) counts
// afresh from the look that crosses into it, with a warning of its own.
// Each case runs on full updates (the full pass) and on Delta updates
// (the incremental pass), which must count the same.
func TestQuotaCounting(t *testing.T) {
	bob := user("bob", "200")
	pausedAt := paused(t0)
	type step struct {
		at time.Duration // from the case's start
		ss []app.Session
	}
	at := func(d time.Duration, ss ...app.Session) step { return step{d, ss} }
	a1, a2 := sess("1"), sess("2")
	tests := []struct {
		name      string
		start     time.Time
		mods      func(*Rule)
		steps     []step
		want      map[string]time.Duration // user → time used in the period of the last step
		warnings  int
		wantWake  time.Duration // when the rules expect a change (from start); 0: not checked
		wantCalls int
	}{
		{name: "paused time is not counted, nor the step that sees the pause",
			steps: []step{at(0, a1), at(time.Minute, a1), at(2*time.Minute, a1), at(3*time.Minute, sess("1", pausedAt)),
				at(4*time.Minute, sess("1", pausedAt)), at(5*time.Minute, a1), at(6*time.Minute, a1)},
			want: map[string]time.Duration{"alice": 3 * time.Minute}},
		{name: "two streams of a user count twice",
			steps:    []step{at(0, a1, a2), at(time.Minute, a1, a2), at(2*time.Minute, a1, a2)},
			want:     map[string]time.Duration{"alice": 4 * time.Minute},
			mods:     func(r *Rule) { r.Quota = Duration(10 * time.Minute) },
			wantWake: 5 * time.Minute}, // 6m left at twice the pace
		{name: "a gap longer than maxCountGap counts for nobody",
			steps: []step{at(0, a1), at(time.Minute, a1), at(time.Minute+maxCountGap+time.Second, a1), at(2*time.Minute+maxCountGap+time.Second, a1)},
			want:  map[string]time.Duration{"alice": 2 * time.Minute}},
		{name: "the clock set back counts nothing",
			steps: []step{at(0, a1), at(time.Minute, a1), at(-8*time.Minute, a1), at(-7*time.Minute, a1)},
			want:  map[string]time.Duration{"alice": 2 * time.Minute}},
		{name: "a stream that changes user counts the step for the new one",
			steps: []step{at(0, a1), at(time.Minute, a1), at(2*time.Minute, sess("1", bob)), at(3*time.Minute, sess("1", bob))},
			want:  map[string]time.Duration{"alice": time.Minute, "bob": 2 * time.Minute}},
		{name: "a user's time is named after the first stream counted (the order of the live sessions)",
			steps: []step{at(0), at(time.Second, sess("1", user("dave", "")), sess("2", user("Dave", ""))), at(time.Minute+time.Second, sess("1", user("dave", "")), sess("2", user("Dave", "")))},
			want:  map[string]time.Duration{"dave": 2 * time.Minute}},
		{name: "a stream that ends does not count its last step",
			steps: []step{at(0, a1, a2), at(time.Minute, a1, a2), at(2*time.Minute, a2)},
			want:  map[string]time.Duration{"alice": 3 * time.Minute}},
		{name: "across midnight: the step across it counts in the new day, warned again",
			start: time.Date(2026, 3, 4, 23, 57, 0, 0, time.UTC),
			mods:  func(r *Rule) { r.Quota, r.WarnBefore = Duration(5*time.Minute), Duration(3*time.Minute) },
			steps: []step{at(0, a1), at(time.Minute, a1), at(2*time.Minute, a1), at(2*time.Minute+40*time.Second, a1), // 2m40s: warned
				at(3*time.Minute+20*time.Second, a1), at(4*time.Minute+20*time.Second, a1), at(5*time.Minute+20*time.Second, a1)}, // from the step across midnight on: 2m40s, warned
			want: map[string]time.Duration{"alice": 2*time.Minute + 40*time.Second}, warnings: 2},
		{name: "the clock set back across midnight counts in the clock's day",
			start: time.Date(2026, 3, 5, 0, 0, 30, 0, time.UTC),
			steps: []step{at(0, a1), at(time.Minute, a1), // 1m on the 5th
				at(-time.Minute, a1), at(-40*time.Second, a1), // back to the 4th: 20s on it, a new count
				at(0, a1)}, // the 5th again: a new count, 40s
			want: map[string]time.Duration{"alice": 40 * time.Second}},
		{name: "a week counts again from Monday",
			start: time.Date(2026, 3, 8, 23, 59, 0, 0, time.UTC), // a Sunday
			mods:  func(r *Rule) { r.Period = PeriodWeek },
			steps: []step{at(0, a1), at(30*time.Second, a1), at(90*time.Second, a1), at(150*time.Second, a1)},
			want:  map[string]time.Duration{"alice": 2 * time.Minute}},
		{name: "at the limit every stream of the user in scope is stopped, paused too",
			mods:  func(r *Rule) { r.Quota = Duration(2 * time.Minute) },
			steps: []step{at(0, a1, sess("2", pausedAt)), at(time.Minute, a1, sess("2", pausedAt)), at(2*time.Minute, a1, sess("2", pausedAt))},
			want:  map[string]time.Duration{"alice": 2 * time.Minute}, wantCalls: 2},
	}
	for _, tt := range tests {
		for _, delta := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/delta %v", tt.name, delta), func(t *testing.T) {
				r := rule(KindQuota, func(r *Rule) { r.Name = "q" })
				if tt.mods != nil {
					tt.mods(&r)
				}
				te := newTestEngine(t, rulesFile(r))
				start := tt.start
				if start.IsZero() {
					start = te.clock.Now()
				}
				incremental := 0
				te.passed = func(_ []job, inc bool) {
					if inc {
						incremental++
					}
				}
				feed := &deltaFeed{}
				for _, st := range tt.steps {
					te.clock.Add(start.Add(st.at).Sub(te.clock.Now()))
					up := update("home", st.ss...)
					if delta {
						up = feed.next(st.ss...)
					}
					te.Observe(up)
					te.wg.Wait()
				}
				if delta && incremental == 0 {
					t.Errorf("no incremental pass")
				}
				got := map[string]time.Duration{}
				for _, q := range te.Usage() {
					got[q.User] = q.Used.Std()
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("Usage() = %v, want %v", got, tt.want)
				}
				warnings := 0
				for _, rec := range te.hist.all() {
					if rec.Action == HistoryQuotaWarning {
						warnings++
					}
				}
				if warnings != tt.warnings {
					t.Errorf("%d warnings, want %d", warnings, tt.warnings)
				}
				if n := len(te.actor.Calls()); n != tt.wantCalls {
					t.Errorf("%d calls, want %d", n, tt.wantCalls)
				}
				if tt.wantWake != 0 {
					te.mu.Lock()
					wake := te.wakeAt
					te.mu.Unlock()
					if want := start.Add(tt.wantWake); !wake.Equal(want) {
						t.Errorf("wake at %v, want %v", wake, want)
					}
				}
			})
		}
	}
}
