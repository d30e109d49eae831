package rules

import (
	"slices"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

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
// update that made it match. An update that says what it changed
// (app.Update.Delta) costs the sessions it changed (incremental.go); any
// other reads every live session.
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
	delta := e.inc.follow(up, slices.Index(e.servers, sn.Server))
	gone := e.confirmGoneLocked(sn)
	var jobs []job
	if delta && !e.fullOnly && e.quotaSteadyLocked(now) {
		jobs = e.passLocked(now, trigger, newIncView(e.inc, now, e.liveSessionsLocked))
		if e.passed != nil {
			e.passed(jobs, true)
		}
	} else {
		jobs = e.evaluateLocked(now, trigger)
	}
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
		if !e.listedLocked(v.s) {
			gone = append(gone, v)
			delete(e.verifying, id)
		}
	}
	return gone
}

// listedLocked reports whether the stream of s is in its server's latest
// list, connected or not (true while no list of its server is known): from
// the index when it follows the server, else from the snapshot.
func (e *Engine) listedLocked(s app.Session) bool {
	if listed, known := e.inc.listed(s); known {
		return listed
	}
	sn := e.snaps[s.Server]
	if sn == nil {
		return true
	}
	x, ok := sn.Find(s.Key())
	return ok && sameStream(x, s)
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
			n += sn.Len()
		}
	}
	if len(live) == 1 {
		return live[0].Sessions()
	}
	out := make([]app.Session, 0, n)
	for _, sn := range live {
		out = append(out, sn.Sessions()...)
	}
	return out
}

// evaluateLocked applies the rules to the live sessions, read whole: the
// full pass, and the reference the incremental one (incremental.go) must
// equal.
func (e *Engine) evaluateLocked(now, trigger time.Time) []job {
	if e.closed {
		return nil
	}
	jobs := e.passLocked(now, trigger, newFullView(e.liveSessionsLocked()))
	if e.passed != nil {
		e.passed(jobs, false)
	}
	return jobs
}

// evalSet is a list of live sessions, in the order liveSessionsLocked
// gives them, with the ident of each made once when needed.
type evalSet struct {
	ss  []app.Session
	ids []string
}

func (s *evalSet) id(i int) string {
	if s.ids[i] == "" {
		s.ids[i] = ident(s.ss[i])
	}
	return s.ids[i]
}

// view gives a pass the live sessions it reads: all of them (fullView), or
// only those that can make a difference (incView).
type view interface {
	// rule returns the sessions rule c's evaluation needs: every session
	// it can match (for a counting kind, every member of a group over its
	// limit; with terminateUser, every stream of the users of those).
	rule(c *compiled) *evalSet
	// user returns the streams of user u.
	user(u userID) []app.Session
	// ids calls fn with the ident of every live session.
	ids(fn func(id string))
}

// fullView is every live session.
type fullView struct{ set *evalSet }

func newFullView(ss []app.Session) fullView {
	return fullView{&evalSet{ss: ss, ids: make([]string, len(ss))}}
}

func (v fullView) rule(*compiled) *evalSet { return v.set }
func (v fullView) user(userID) []app.Session {
	return v.set.ss
}
func (v fullView) ids(fn func(string)) {
	for i := range v.set.ss {
		fn(v.set.id(i))
	}
}

// passLocked applies the rules to the live sessions of v: it starts grace
// delays, drops those whose session stopped matching, and returns the
// actions due now (marked as acted).
func (e *Engine) passLocked(now, trigger time.Time, v view) []job {
	e.lookLocked(now)
	e.pruneLocked(now, v)
	if e.paused || (len(e.rules) == 0 && len(e.blocks) == 0) {
		clear(e.pending)
		e.stopCountingLocked() // nothing is counted while the rules are paused
		e.wakeAt, e.accountAt = time.Time{}, time.Time{}
		return nil
	}
	jobs := e.accountLocked(now, v)
	var wake time.Time
	var matched map[actKey]bool
	for _, c := range countingLast(e.rules) {
		if !c.Enabled {
			continue
		}
		set := v.rule(c)
		// A stream a rule is terminating (now or before) is leaving: the
		// counting kinds, evaluated after the others, do not count it.
		claimed := func(i int) bool {
			if len(e.claimed) == 0 {
				return false
			}
			_, ok := e.claimed[set.id(i)]
			return ok
		}
		hits, w := c.evaluate(set.ss, now, claimed)
		wake = earliest(wake, w)
		for _, h := range hits {
			id := set.id(h.i)
			k := actKey{c.Name, id}
			if _, done := e.acted[k]; done {
				continue
			}
			terminates := c.terminates() && !e.file.DryRun
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
			s := set.ss[h.i]
			reason := c.reasonOf(h, &s, now)
			jobs = append(jobs, job{rule: c, s: s, reason: reason, message: render(c.Rule, s, reason), dryRun: e.file.DryRun, trigger: trig})
		}
	}
	bj, bw := e.enforceBlocksLocked(v, now, trigger)
	jobs, wake = append(jobs, bj...), earliest(wake, bw)
	for k, p := range e.pending {
		if matched[k] {
			continue
		}
		delete(e.pending, k)
		if p.retry != nil && !e.listedLocked(p.retry.s) {
			// The stream of an action that failed (perhaps only for want
			// of an answer: the server may have carried it out) ended
			// before the retry: say so, so that the history does not end
			// on the failure.
			j := *p.retry
			j.gone = "the stream ended before the retry after the failure above (the server may have carried out that request)"
			jobs = append(jobs, j)
			continue
		}
		e.opts.Log.Info("rule no longer matches after its grace delay began; nothing done", "rule", k.rule, "session", k.session)
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
		if c.spec.count != nil {
			n++
		}
	}
	if n == 0 || n == len(rules) {
		return rules
	}
	out := make([]*compiled, 0, len(rules))
	for _, c := range rules {
		if c.spec.count == nil {
			out = append(out, c)
		}
	}
	for _, c := range rules {
		if c.spec.count != nil {
			out = append(out, c)
		}
	}
	return out
}

// pruneLocked forgets sessions acted on that have not been live for a while.
func (e *Engine) pruneLocked(now time.Time, v view) {
	if len(e.seen) == 0 {
		return
	}
	if now.Sub(e.lastPrune) < time.Minute {
		return
	}
	e.lastPrune = now
	v.ids(func(id string) {
		if _, ok := e.seen[id]; ok {
			e.seen[id] = now // still playing: remember it
		}
	})
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
		for k := range e.retryAt {
			if k.session == id {
				delete(e.retryAt, k)
			}
		}
	}
}
