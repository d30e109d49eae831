package rules

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/internal/words"
)

// Quota counting, lazily (issue 13). The time between two passes (two
// looks at the live sessions) counts for a stream seen playing, in scope
// of a quota rule, at both; a gap longer than maxCountGap counts for
// nobody. Rather than add that time to every playing stream at every pass,
// the engine keeps a seen clock (seenTime: the time counted for a stream
// playing throughout) and, per rule and user, the streams counted as
// playing now (quotaLive.n) since the seen clock read at: the time used is
// the stored QuotaUsage.Used plus n × (seenTime − at), computable without
// visiting a stream. A pass brings it up to date (settle) only for the
// users whose counted streams change (a stream starts or stops playing,
// changes user, leaves the scope, ends), and at the first pass of a new
// period (roll). Both the full pass (every stream) and the incremental one
// (the changed streams) change the counts the same way, so the time
// counted does not depend on which pass runs.
//
// For the incremental pass the rule's index (ruleIndex) keeps the users
// over the limit (their streams in scope match) and, per user whose time
// grows, the seen clock at which it reaches its warning or its limit, in a
// heap: a pass pops the users who reached one since, and reads the streams
// of those and of the users over the limit only.

// quotaLive is what grows the time used of one rule × user: the streams
// counted as playing.
type quotaLive struct {
	n     int           // streams counted as playing
	at    time.Duration // the seen clock up to which Used is counted
	start time.Time     // the period the time since at belongs to
	// the names of a usage entry made from this (the first stream's)
	user, userID string
}

// quotaMark is what the engine saw of a quota rule at the last pass.
type quotaMark struct {
	start  time.Time // its period
	active bool      // in its schedule
}

// countChange is a stream whose counting by a quota rule changes: from
// user from (had) to user to (has).
type countChange struct {
	c        *compiled // nil: a rule no longer in force (had only)
	rule, id string
	from, to userID
	had, has bool
	s        *app.Session // (has) the stream
}

// lookLocked advances the seen clock to now; every pass looks.
func (e *Engine) lookLocked(now time.Time) {
	d := now.Sub(e.lastLook)
	e.seenStep = 0
	if !e.lastLook.IsZero() && d > 0 && d <= maxCountGap {
		e.seenStep = d
		e.seenTime += d
	}
	e.lastLook = now
}

// usageKeysLocked calls fn with every rule × user with time stored or
// growing.
func (e *Engine) usageKeysLocked(fn func(usageKey)) {
	for k := range e.usage {
		fn(k)
	}
	for k := range e.live {
		if _, ok := e.usage[k]; !ok {
			fn(k)
		}
	}
}

// usageViewLocked returns rule × user's usage up to the last pass (as
// stored, with the time its streams added since), the streams counted as
// playing, and whether there is any.
func (e *Engine) usageViewLocked(k usageKey) (QuotaUsage, int, bool) {
	var q QuotaUsage
	p := e.usage[k]
	ok := p != nil
	if ok {
		q = *p
	}
	l := e.live[k]
	if l == nil {
		return q, 0, ok
	}
	if add := time.Duration(l.n) * (e.seenTime - l.at); add > 0 {
		if !ok {
			q = QuotaUsage{Rule: k.rule, User: l.user, UserID: l.userID, Start: l.start}
		} else {
			q.period(l.start)
		}
		q.Used += Duration(add)
		ok = true
	}
	return q, l.n, ok
}

// usageOfLocked is usageViewLocked in the period starting at start: none
// counted yet when the stored one is of another.
func (e *Engine) usageOfLocked(k usageKey, start time.Time) (QuotaUsage, int, bool) {
	q, n, ok := e.usageViewLocked(k)
	if ok {
		q.period(start)
	}
	return q, n, ok
}

// period makes q the usage of the period starting at start: nothing
// counted yet when it held another period's.
func (q *QuotaUsage) period(start time.Time) {
	if !q.Start.Equal(start) {
		q.Start, q.Used, q.Warned = start, 0, false
	}
}

// creditLocked adds d to rule × user's stored time, in l's period.
func (e *Engine) creditLocked(k usageKey, l *quotaLive, d time.Duration) {
	if d <= 0 {
		return
	}
	q := e.usage[k]
	if q == nil {
		q = &QuotaUsage{Rule: k.rule, User: l.user, UserID: l.userID, Start: l.start}
		e.usage[k] = q
	}
	q.period(l.start)
	q.Used += Duration(d)
	e.usageDirty = true
}

// settleLocked stores the time rule × user's streams added up to the seen
// clock at.
func (e *Engine) settleLocked(k usageKey, at time.Duration) *quotaLive {
	l := e.live[k]
	if l != nil && at > l.at {
		e.creditLocked(k, l, time.Duration(l.n)*(at-l.at))
		l.at = at
	}
	return l
}

// stopCountingLocked stops counting every stream (the rules are paused,
// or there are none): the last step counts for nobody.
func (e *Engine) stopCountingLocked() {
	for k := range e.live {
		e.settleLocked(k, e.seenTime-e.seenStep)
	}
	clear(e.live)
	clear(e.counted)
}

// quotaSteadyLocked reports whether no quota rule's period or schedule
// changed since the last pass: else the pass must be a full one.
func (e *Engine) quotaSteadyLocked(now time.Time) bool {
	for _, c := range e.rules {
		if c.Kind != KindQuota || !c.Enabled {
			continue
		}
		m, ok := e.quotaMarks[c.Name]
		if !ok || !m.start.Equal(periodStart(c, now)) || m.active != c.inSchedule(now) {
			return false
		}
	}
	return true
}

// rollLocked starts the new period of the quota rules whose period
// changed since the last pass: the time up to the last pass counts in the
// old one, the last step in the new one.
func (e *Engine) rollLocked(now time.Time) {
	for _, c := range e.rules {
		if c.Kind != KindQuota || !c.Enabled {
			continue
		}
		start := periodStart(c, now)
		m := e.quotaMarks[c.Name]
		if !m.start.IsZero() && !m.start.Equal(start) {
			for k, l := range e.live {
				if k.rule == c.Name {
					e.settleLocked(k, e.seenTime-e.seenStep)
					l.start = start
				}
			}
		}
		e.quotaMarks[c.Name] = quotaMark{start: start, active: c.inSchedule(now)}
	}
}

// countsFor returns the user whose time quota rule c counts s playing
// for; false: it does not count s.
func countsFor(c *compiled, s *app.Session) (userID, bool) {
	if s.State != "playing" || !c.applies(s) {
		return userID{}, false
	}
	return userOf(s)
}

// countingRules returns the quota rules that count now.
func (e *Engine) countingRules(now time.Time) []*compiled {
	var cs []*compiled
	for _, c := range e.rules {
		if c.Kind == KindQuota && c.Enabled && c.inSchedule(now) {
			cs = append(cs, c)
		}
	}
	return cs
}

// applyCountsLocked carries out changes (the streams that start in the
// order of the live sessions) and returns the rule × users they touched.
// A stream that stops does not count the last step (it was not seen
// playing at both looks); one that changes user counts it for the new one.
func (e *Engine) applyCountsLocked(now time.Time, chs []countChange) map[usageKey]bool {
	touched := map[usageKey]bool{}
	step, at := e.seenStep, e.seenTime
	before, removed := len(e.counted), 0
	for i := range chs { // first what stops: a user's time up to now, less the last step
		ch := &chs[i]
		if !ch.had {
			continue
		}
		k := usageKey{ch.rule, ch.from}
		touched[k] = true
		l := e.settleLocked(k, at)
		if l == nil { // cannot happen: a counted stream has its user's record
			continue
		}
		if q := e.usage[k]; q != nil && step > 0 {
			q.Used -= Duration(step) // (settle added at least this)
		}
		if l.n--; l.n <= 0 {
			delete(e.live, k)
		}
		if !ch.has {
			delete(e.counted, actKey{ch.rule, ch.id})
			removed++
		}
	}
	for i := range chs {
		ch := &chs[i]
		if !ch.has {
			continue
		}
		k := usageKey{ch.rule, ch.to}
		touched[k] = true
		l := e.settleLocked(k, at)
		if l == nil {
			l = &quotaLive{at: at, start: periodStart(ch.c, now), user: ch.s.User, userID: ch.s.UserID}
			e.live[k] = l
		}
		l.n++
		if ch.had { // moved from another user: the last step is the new one's
			e.creditLocked(k, l, step)
		}
		e.counted[actKey{ch.rule, ch.id}] = ch.to
	}
	if step > 0 && before > removed { // a stream seen playing at both looks
		e.usageDirty = true
	}
	if removed > 0 {
		e.flushSoon = e.usageDirty // a counted stream stopped: save soon
	}
	return touched
}

// warnLocked returns the warning of rule c for user u if it is due now:
// the time used reached the warning but not the limit, no warning yet in
// this period, and a stream of u's plays (first: the first of them in the
// order of the live sessions).
func (e *Engine) warnLocked(c *compiled, u userID, now time.Time, first func() *app.Session) (job, bool) {
	w := c.WarnBefore.Std()
	if w <= 0 {
		return job{}, false
	}
	k := usageKey{c.Name, u}
	q, n, _ := e.usageOfLocked(k, periodStart(c, now))
	used, limit := q.Used.Std(), c.Quota.Std()
	if n == 0 || q.Warned || used < limit-w || used >= limit {
		return job{}, false
	}
	s := first()
	if s == nil {
		return job{}, false // cannot happen: n streams are counted
	}
	e.settleLocked(k, e.seenTime)
	e.usage[k].Warned = true // (settled: it holds the time used, > 0)
	e.usageDirty = true
	return job{rule: c, s: *s, trigger: time.Now(),
		note: fmt.Sprintf("%s has %s left of %s a %s (%s)", s.User, words.ShortDuration(limit-used), words.ShortDuration(c.Quota.Std()), periodWord(c), quotaReason(c, s, now))}, true
}

// accountLocked brings the quota counts to now and returns the warnings
// that are due: from the live sessions whole (a full view), or from the
// sessions the Delta update changed (an incView).
func (e *Engine) accountLocked(now time.Time, v view) []job {
	e.rollLocked(now)
	var jobs []job
	if iv, ok := v.(*incView); ok {
		jobs = e.accountDeltaLocked(now, iv)
	} else {
		jobs = e.accountFullLocked(now, v.(fullView).set)
	}
	if len(e.counted) > 0 {
		e.accountAt = now.Add(accountEvery)
	} else {
		e.accountAt = time.Time{}
	}
	return jobs
}

// accountFullLocked counts from every live session, and files every user
// in the rules' indexes again.
func (e *Engine) accountFullLocked(now time.Time, set *evalSet) []job {
	cs := e.countingRules(now)
	next := make(map[actKey]userID, len(e.counted))
	first := map[usageKey]int{} // rule × user → its first stream counted
	var chs []countChange
	for _, c := range cs {
		for i := range set.ss {
			s := &set.ss[i]
			u, ok := countsFor(c, s)
			if !ok {
				continue
			}
			k := actKey{c.Name, set.id(i)}
			if _, dup := next[k]; dup {
				continue
			}
			next[k] = u
			if _, ok := first[usageKey{c.Name, u}]; !ok {
				first[usageKey{c.Name, u}] = i
			}
			if prev, had := e.counted[k]; !had || prev != u {
				chs = append(chs, countChange{c: c, rule: c.Name, id: k.session, from: prev, had: had, to: u, has: true, s: s})
			}
		}
	}
	for k, u := range e.counted {
		if _, ok := next[k]; !ok {
			chs = append(chs, countChange{rule: k.rule, id: k.session, from: u, had: true})
		}
	}
	e.applyCountsLocked(now, chs)
	var jobs []job
	for _, c := range cs {
		for k, l := range e.live {
			if k.rule != c.Name || l.n == 0 {
				continue
			}
			if j, ok := e.warnLocked(c, k.user, now, func() *app.Session { return &set.ss[first[k]] }); ok {
				jobs = append(jobs, j)
			}
		}
	}
	for c, ri := range e.inc.rules {
		if c.Kind != KindQuota {
			continue
		}
		ri.qover, ri.qdue, ri.qheap = map[userID]bool{}, map[userID]time.Duration{}, ri.qheap[:0]
		e.usageKeysLocked(func(k usageKey) {
			if k.rule == c.Name {
				e.fileQuotaLocked(ri, k.user, now)
			}
		})
	}
	return jobs
}

// accountDeltaLocked counts from the streams the update changed, and the
// users whose time reached their warning or limit since the last pass.
func (e *Engine) accountDeltaLocked(now time.Time, v *incView) []job {
	x := v.x
	cs := e.countingRules(now)
	var chs []countChange
	if len(cs) > 0 && len(x.changed) > 0 {
		ids := make([]string, 0, len(x.changed))
		for id := range x.changed {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, func(a, b string) int { // the streams in the order of the live sessions
			ea, eb := x.changed[a], x.changed[b]
			switch {
			case ea == nil && eb == nil:
				return cmp.Compare(a, b)
			case ea == nil: // the streams gone first
				return -1
			case eb == nil:
				return 1
			}
			return entryCompare(ea, eb)
		})
		for _, c := range cs {
			for _, id := range ids {
				en := x.changed[id]
				k := actKey{c.Name, id}
				prev, had := e.counted[k]
				var u userID
				has := false
				if en != nil && x.isLive(en) {
					u, has = countsFor(c, &en.s)
				}
				if had == has && prev == u {
					continue
				}
				var s *app.Session
				if has {
					s = &en.s
				}
				chs = append(chs, countChange{c: c, rule: c.Name, id: id, from: prev, had: had, to: u, has: has, s: s})
			}
		}
	}
	touched := e.applyCountsLocked(now, chs)
	var jobs []job
	for _, c := range cs {
		ri := x.rules[c]
		if ri == nil {
			continue
		}
		check := map[userID]bool{}
		for k := range touched {
			if k.rule == c.Name {
				check[k.user] = true
			}
		}
		for len(ri.qheap) > 0 && ri.qheap[0].due <= e.seenTime {
			it := heap.Pop(&ri.qheap).(quotaDue)
			if due, ok := ri.qdue[it.u]; ok && due == it.due {
				delete(ri.qdue, it.u)
				check[it.u] = true
			}
		}
		for u := range check {
			if j, ok := e.warnLocked(c, u, now, func() *app.Session { return x.firstCounted(c, u, e.counted) }); ok {
				jobs = append(jobs, j)
			}
			e.fileQuotaLocked(ri, u, now)
		}
	}
	return jobs
}

// fileQuotaLocked files user u in quota rule ri's index: over the limit,
// or when (seen clock) its time reaches the next threshold if it grows.
func (e *Engine) fileQuotaLocked(ri *ruleIndex, u userID, now time.Time) {
	c := ri.c
	q, n, _ := e.usageOfLocked(usageKey{c.Name, u}, periodStart(c, now))
	used := q.Used.Std()
	if used >= c.Quota.Std() {
		ri.qover[u] = true
		delete(ri.qdue, u)
		return
	}
	delete(ri.qover, u)
	if n == 0 {
		delete(ri.qdue, u)
		return
	}
	due := e.seenTime + ceilDiv(nextThreshold(c, used)-used, n)
	if old, ok := ri.qdue[u]; ok && old == due {
		return // filed already
	}
	ri.qdue[u] = due
	heap.Push(&ri.qheap, quotaDue{due, u})
	if len(ri.qheap) > 2*len(ri.qdue)+64 { // drop the stale items
		ri.qheap = slices.DeleteFunc(ri.qheap, func(it quotaDue) bool {
			d, ok := ri.qdue[it.u]
			return !ok || d != it.due
		})
		heap.Init(&ri.qheap)
	}
}

// quotaDue is when (seen clock) a user's time reaches the next threshold.
type quotaDue struct {
	due time.Duration
	u   userID
}

// quotaHeap orders quotaDues, soonest first (container/heap).
type quotaHeap []quotaDue

func (h quotaHeap) Len() int           { return len(h) }
func (h quotaHeap) Less(i, j int) bool { return h[i].due < h[j].due }
func (h quotaHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *quotaHeap) Push(x any)        { *h = append(*h, x.(quotaDue)) }
func (h *quotaHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
