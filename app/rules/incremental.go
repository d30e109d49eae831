package rules

import (
	"cmp"
	"container/heap"
	"slices"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/diag"
)

// Incremental evaluation (issue 13). The engine keeps an index of the
// live sessions that follows the monitor's Delta updates (app.Update.Delta,
// Touched, Ended changes) as app/diag does: an update that says what it
// changed costs the changed sessions. Per rule in force the index keeps
// the sessions the rule can match (static kinds: those it matches;
// paused: the paused ones; diagnostic, whose answer moves without the
// session changing: those in scope, by player id and user) and, for the
// counting kinds, the members of each user's or server's group with the
// groups over the limit. Quota rules, whose answer moves with the time
// played, keep their streams in scope by user, the users over the limit
// and a heap of when each user whose time grows reaches the warning or the
// limit (quotacount.go): the time used is counted lazily, so a pass
// settles only the users whose streams changed and pops those who reached
// a threshold. A pass over a Delta update then evaluates each rule on
// those sessions only, with the same code as the full pass: a session left
// out can neither match nor change a count over the limit, so the result
// is the same (TestIncrementalEqualsFull). A diagnostic rule reads the
// sessions in its scope of the players and users its DiagSource flags now
// (DiagLister.Flagged): any other answers false, so cannot match.
//
// Everything else reads the live sessions whole (evaluateLocked, the
// reference): an update that is not a Delta or follows a gap in Seq, a
// change of a server's connection, new rules, pause and resume, the first
// update in a quota rule's new period or schedule, and the timer (grace
// delays, pauses growing long, time windows, quota counting every
// accountEvery while streams are counted).

// incIndex is the engine's index of the live sessions (connected servers).
type incIndex struct {
	servers map[string]*incServer
	byUser  map[userID]map[string]*incEntry // user → Session.Key → entry
	rules   map[*compiled]*ruleIndex        // the enabled rules in force
	acted   map[actKey]time.Time            // the engine's (Engine.acted)
	// changed are the streams (by ident) the last follow changed: the
	// entry now, or nil when gone (the quota counts follow them).
	changed map[string]*incEntry
	// wholeAt is the fewest sessions a rule reads that make a pass read
	// the live sessions whole instead (incView.whole); tests lower it.
	wholeAt int
}

// incServer is what the index follows of one server.
type incServer struct {
	seq  uint64
	live bool                 // connected: its sessions are in the index
	keys map[string]*incEntry // by Session.Key
}

// incEntry is one live session.
type incEntry struct {
	s   app.Session
	key string // s.Key()
	id  string // ident(s)
	srv int    // the server's place in Engine.servers: the order of liveSessionsLocked
}

// ruleIndex is what the index keeps for one rule.
type ruleIndex struct {
	c     *compiled
	acted map[actKey]time.Time // the engine's
	// cands are, for a per-session kind, the sessions it can match; for a
	// static kind without terminateUser (dropsActed), less those it acted
	// on (dropped when the pass finds them acted on: the pass skips them
	// at once, they give no wake time).
	cands map[string]*incEntry
	// paused: cands by the time each pause grows long enough (stale
	// items are skipped), and those found grown long enough (less those
	// acted on, without terminateUser), while the clock goes forward.
	waiting dueHeap
	matured map[string]*incEntry
	lastNow time.Time
	groups  map[string]map[string]*incEntry // counting kinds: group → members
	over    map[string]struct{}             // counting kinds: the groups over limit
	limit   int
	// diagnostic, with a DiagLister: cands by player id (byPlayer) and,
	// for storms, by Session.User (byName), on their server.
	byPlayer, byName map[diag.FlagKey]map[string]*incEntry
	// quota (quotacount.go; groups: the streams in scope by user): the
	// users over the limit, and the seen clock at which each user whose
	// time grows reaches its next threshold (qdue), soonest first in
	// qheap (items not in qdue are stale).
	qover map[userID]bool
	qdue  map[userID]time.Duration
	qheap quotaHeap
}

func newIncIndex(acted map[actKey]time.Time) *incIndex {
	return &incIndex{servers: map[string]*incServer{}, byUser: map[userID]map[string]*incEntry{}, rules: map[*compiled]*ruleIndex{}, acted: acted, changed: map[string]*incEntry{}, wholeAt: 64}
}

// follow brings the index to the update's snapshot (srv: the server's
// place in Engine.servers). It reports whether it followed a delta; false
// when it read the server's list whole (the caller then runs the full
// pass).
func (x *incIndex) follow(up app.Update, srv int) bool {
	sn := up.Snapshot
	live := sn.Conn.Status == app.Connected
	xs := x.servers[sn.Server]
	clear(x.changed)
	if xs != nil && up.Delta && xs.seq != 0 && sn.Seq == xs.seq+1 && live == xs.live {
		xs.seq = sn.Seq
		if !live {
			return true // its sessions are not acted on
		}
		for i := range up.Changes {
			if ch := &up.Changes[i]; ch.Kind == app.Ended {
				x.del(xs, ch.Session.Key())
			}
		}
		for i := range up.Touched {
			x.put(xs, up.Touched[i], srv)
		}
		return true
	}
	if xs == nil {
		xs = &incServer{keys: map[string]*incEntry{}}
		x.servers[sn.Server] = xs
	}
	for k := range xs.keys {
		x.del(xs, k)
	}
	xs.seq, xs.live = sn.Seq, live
	if live {
		for s := range sn.All() {
			x.put(xs, *s, srv)
		}
	}
	return false
}

// put adds or replaces a listed session.
func (x *incIndex) put(xs *incServer, s app.Session, srv int) {
	k := s.Key()
	x.del(xs, k)
	en := &incEntry{s: s, key: k, id: ident(s), srv: srv}
	xs.keys[k] = en
	x.changed[en.id] = en
	if u, ok := userOf(&en.s); ok {
		m := x.byUser[u]
		if m == nil {
			m = map[string]*incEntry{}
			x.byUser[u] = m
		}
		m[k] = en
	}
	for _, ri := range x.rules {
		ri.add(en)
	}
}

// del forgets a session.
func (x *incIndex) del(xs *incServer, k string) {
	en, ok := xs.keys[k]
	if !ok {
		return
	}
	delete(xs.keys, k)
	x.changed[en.id] = nil
	if u, ok := userOf(&en.s); ok {
		if m := x.byUser[u]; m != nil {
			delete(m, k)
			if len(m) == 0 {
				delete(x.byUser, u)
			}
		}
	}
	for _, ri := range x.rules {
		ri.remove(en)
	}
}

// setRules indexes the live sessions for the rules in force.
func (x *incIndex) setRules(cs []*compiled) {
	x.rules = make(map[*compiled]*ruleIndex, len(cs))
	for _, c := range cs {
		if c.Enabled {
			x.rules[c] = x.index(c)
		}
	}
}

// index indexes the live sessions for rule c.
func (x *incIndex) index(c *compiled) *ruleIndex {
	ri := &ruleIndex{c: c, acted: x.acted, cands: map[string]*incEntry{}, groups: map[string]map[string]*incEntry{}, over: map[string]struct{}{}, limit: groupLimit(c),
		qover: map[userID]bool{}, qdue: map[userID]time.Duration{}}
	if _, ok := c.diag.(DiagLister); ok && c.Kind == KindDiagnostic {
		ri.byPlayer = map[diag.FlagKey]map[string]*incEntry{}
		if c.Condition != ConditionCollision {
			ri.byName = map[diag.FlagKey]map[string]*incEntry{}
		}
	}
	for _, xs := range x.servers {
		for _, en := range xs.keys {
			ri.add(en)
		}
	}
	return ri
}

// reopen indexes rule name's sessions again after the engine forgot that
// it acted on one (a retry).
func (x *incIndex) reopen(name string) {
	for c := range x.rules {
		if c.Name == name && (dropsActed(c) || c.Kind == KindPaused) {
			x.rules[c] = x.index(c)
		}
	}
}

// dropsActed reports a rule whose candidates leave out the sessions it
// acted on.
func dropsActed(c *compiled) bool {
	return staticKind(c.Kind) && c.Action != ActionTerminateUser
}

// staticKind reports a per-session kind whose answer depends on the
// session alone (not on the time, the quota counts or the diagnostics).
func staticKind(k Kind) bool {
	switch k {
	case KindTranscode, KindSourceTranscode, KindBandwidth, KindRemote, KindAddress, KindPlayer, KindTimeWindow:
		return true
	}
	return false
}

// candidate reports whether per-session rule c can match s: it matches
// it (static kinds), or may without s changing (the others).
func candidate(c *compiled, s *app.Session) bool {
	if !c.applies(s) {
		return false
	}
	switch {
	case staticKind(c.Kind):
		ok, _ := c.match(s, time.Time{})
		return ok
	case c.Kind == KindPaused:
		return !pausedSince(s).IsZero()
	}
	return true
}

// groupOf is the group counting rule c counts s in; false when it does
// not count s.
func groupOf(c *compiled, s *app.Session) (string, bool) {
	if !c.applies(s) {
		return "", false
	}
	switch c.Kind {
	case KindUserStreams, KindQuota:
		u, ok := userOf(s)
		if !ok {
			return "", false
		}
		return u.group(), true
	case KindServerTranscodes:
		if !(videoTranscode(s, c.CountSubtitleBurn) || (c.IncludeAudioOnly && s.AudioOnly)) {
			return "", false
		}
		return s.Server, true
	}
	return "", true // a counting kind this file does not know: one group, always read
}

// group names user u's group.
func (u userID) group() string {
	if u.id != "" {
		return "id:" + u.id
	}
	return "name:" + u.name
}

// groupLimit is the most members a group of c may have without any of
// them matching.
func groupLimit(c *compiled) int {
	switch c.Kind {
	case KindUserStreams:
		return c.MaxStreams
	case KindServerTranscodes:
		return c.MaxTranscodes
	}
	return -1
}

func (ri *ruleIndex) add(en *incEntry) {
	c := ri.c
	if c.spec.count == nil && c.Kind != KindQuota {
		if candidate(c, &en.s) && !(dropsActed(c) && ri.isActed(en)) {
			ri.cands[en.key] = en
			if ri.byPlayer != nil {
				ri.flagIndex(en, true)
			}
			if c.Kind == KindPaused {
				heap.Push(&ri.waiting, dueItem{pausedSince(&en.s).Add(c.PausedFor.Std()), en})
				if len(ri.waiting) > 2*len(ri.cands)+64 {
					ri.compact()
				}
			}
		}
		return
	}
	g, ok := groupOf(c, &en.s)
	if !ok {
		return
	}
	m := ri.groups[g]
	if m == nil {
		m = map[string]*incEntry{}
		ri.groups[g] = m
	}
	m[en.key] = en
	if c.Kind != KindQuota && len(m) > ri.limit {
		ri.over[g] = struct{}{}
	}
}

func (ri *ruleIndex) isActed(en *incEntry) bool {
	_, ok := ri.acted[actKey{ri.c.Name, en.id}]
	return ok
}

func (ri *ruleIndex) remove(en *incEntry) {
	if ri.c.spec.count == nil && ri.c.Kind != KindQuota {
		if ri.byPlayer != nil && ri.cands[en.key] == en {
			ri.flagIndex(en, false)
		}
		delete(ri.cands, en.key)
		delete(ri.matured, en.key)
		return
	}
	g, ok := groupOf(ri.c, &en.s)
	if !ok {
		return
	}
	m := ri.groups[g]
	delete(m, en.key)
	if len(m) <= ri.limit {
		delete(ri.over, g)
	}
	if len(m) == 0 {
		delete(ri.groups, g)
	}
}

// flagIndex adds en to byPlayer and byName (in), or removes it.
func (ri *ruleIndex) flagIndex(en *incEntry, in bool) {
	put := func(m map[diag.FlagKey]map[string]*incEntry, k diag.FlagKey) {
		g := m[k]
		if !in {
			delete(g, en.key)
			if len(g) == 0 {
				delete(m, k)
			}
			return
		}
		if g == nil {
			g = map[string]*incEntry{}
			m[k] = g
		}
		g[en.key] = en
	}
	if id := en.s.Player.MachineIdentifier; id != "" {
		put(ri.byPlayer, diag.FlagKey{Server: en.s.Server, ID: id})
	}
	if ri.byName != nil {
		put(ri.byName, diag.FlagKey{Server: en.s.Server, ID: en.s.User})
	}
}

// flagged returns the candidates of a diagnostic rule its DiagLister
// flags (fl): the only ones it can match.
func (ri *ruleIndex) flagged(fl diag.Flags) []*incEntry {
	var es []*incEntry
	var in map[string]bool // with two lists, a session may be in both
	add := func(m map[string]*incEntry) {
		for k, en := range m {
			if in != nil {
				if in[k] {
					continue
				}
				in[k] = true
			}
			es = append(es, en)
		}
	}
	if ri.c.Condition == ConditionCollision {
		for k := range fl.Colliding {
			add(ri.byPlayer[k])
		}
		return es
	}
	if len(fl.Storming) > 0 && len(fl.StormingUsers) > 0 {
		in = map[string]bool{}
	}
	for k := range fl.Storming {
		add(ri.byPlayer[k])
	}
	for k := range fl.StormingUsers {
		add(ri.byName[k])
	}
	return es
}

// incView is the view of a pass over a Delta update: per rule, only the
// sessions the index says can matter.
type incView struct {
	x    *incIndex
	now  time.Time
	live func() []app.Session // the live sessions whole (liveSessionsLocked)
	n    int                  // how many
	all  *evalSet             // made from live when first needed
	// flags: what the diagnostic rules' DiagLister flags, asked once per
	// pass (every rule has the engine's Options.Diag)
	flags    diag.Flags
	flagsSet bool
}

func newIncView(x *incIndex, now time.Time, live func() []app.Session) *incView {
	n := 0
	for _, xs := range x.servers {
		n += len(xs.keys)
	}
	return &incView{x: x, now: now, live: live, n: n}
}

// whole returns the live sessions whole when es is most of them (a quota
// or diagnostic rule for everyone): their own order, nothing copied.
func (v *incView) whole(es []*incEntry) *evalSet {
	if len(es) < v.x.wholeAt || 2*len(es) < v.n {
		return nil
	}
	if v.all == nil {
		v.all = newFullView(v.live()).set
	}
	return v.all
}

func (v *incView) rule(c *compiled) *evalSet {
	ri := v.x.rules[c]
	if ri == nil || !c.inSchedule(v.now) {
		return &evalSet{} // (out of its schedule it reads no session)
	}
	var es []*incEntry
	tu := c.Action == ActionTerminateUser
	switch {
	case c.spec.count != nil:
		for g := range ri.over {
			for _, en := range ri.groups[g] {
				es = append(es, en)
			}
		}
	case dropsActed(c):
		for k, en := range ri.cands {
			if ri.isActed(en) {
				delete(ri.cands, k)
				continue
			}
			es = append(es, en)
		}
	case c.Kind == KindPaused:
		es = ri.paused(v.now)
	case c.Kind == KindQuota:
		es = ri.quota()
	case ri.byPlayer != nil:
		if !v.flagsSet {
			v.flags, v.flagsSet = c.diag.(DiagLister).Flagged(), true
		}
		es = ri.flagged(v.flags)
	default:
		for _, en := range ri.cands {
			es = append(es, en)
		}
	}
	if tu && len(es) > 0 {
		es = v.x.withUsers(es)
	}
	if all := v.whole(es); all != nil {
		return all
	}
	return entrySet(es)
}

// paused returns the sessions a paused rule needs at now: those paused
// long enough (less those acted on, as for the static kinds, without
// terminateUser), and the next to be (the wake time).
func (ri *ruleIndex) paused(now time.Time) []*incEntry {
	if now.Before(ri.lastNow) { // the clock went back: sort them again
		ri.waiting, ri.matured = ri.waiting[:0], nil
		for _, en := range ri.cands {
			ri.waiting = append(ri.waiting, dueItem{pausedSince(&en.s).Add(ri.c.PausedFor.Std()), en})
		}
		heap.Init(&ri.waiting)
	}
	ri.lastNow = now
	tu := ri.c.Action == ActionTerminateUser
	for len(ri.waiting) > 0 {
		top := ri.waiting[0]
		if ri.cands[top.en.key] == top.en && now.Before(top.due) {
			break
		}
		heap.Pop(&ri.waiting)
		if ri.cands[top.en.key] != top.en || (!tu && ri.isActed(top.en)) {
			continue // stale, or acted on
		}
		if ri.matured == nil {
			ri.matured = map[string]*incEntry{}
		}
		ri.matured[top.en.key] = top.en
	}
	es := make([]*incEntry, 0, len(ri.matured)+1)
	for k, en := range ri.matured {
		if !tu && ri.isActed(en) {
			delete(ri.matured, k)
			continue
		}
		es = append(es, en)
	}
	if len(ri.waiting) > 0 {
		es = append(es, ri.waiting[0].en)
	}
	return es
}

// compact drops the stale items of waiting (sessions changed or gone).
func (ri *ruleIndex) compact() {
	ri.waiting = slices.DeleteFunc(ri.waiting, func(it dueItem) bool { return ri.cands[it.en.key] != it.en })
	heap.Init(&ri.waiting)
}

// dueItem is a paused session and when its pause is long enough.
type dueItem struct {
	due time.Time
	en  *incEntry
}

// dueHeap orders dueItems, soonest first (container/heap).
type dueHeap []dueItem

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueItem)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// withUsers adds to es every other stream of their users.
func (x *incIndex) withUsers(es []*incEntry) []*incEntry {
	in := make(map[string]bool, len(es))
	for _, en := range es {
		in[en.key] = true
	}
	users := map[userID]bool{}
	for _, en := range es {
		u, ok := userOf(&en.s)
		if !ok || users[u] {
			continue
		}
		users[u] = true
		for k, m := range x.byUser[u] {
			if !in[k] {
				in[k] = true
				es = append(es, m)
			}
		}
	}
	return es
}

// quota returns the sessions a quota rule needs (accountDeltaLocked
// filed its users at this pass): the streams in scope of the users over
// the limit, and a playing one of the user who reaches a threshold next
// (the wake time).
func (ri *ruleIndex) quota() []*incEntry {
	var es []*incEntry
	for u := range ri.qover {
		for _, en := range ri.groups[u.group()] {
			es = append(es, en)
		}
	}
	for len(ri.qheap) > 0 {
		top := ri.qheap[0]
		if due, ok := ri.qdue[top.u]; !ok || due != top.due {
			heap.Pop(&ri.qheap) // stale
			continue
		}
		for _, en := range ri.groups[top.u.group()] {
			if en.s.State == "playing" {
				es = append(es, en)
				break
			}
		}
		break
	}
	return es
}

func (v *incView) user(u userID) []app.Session {
	m := v.x.byUser[u]
	if len(m) == 0 {
		return nil
	}
	es := make([]*incEntry, 0, len(m))
	for _, en := range m {
		es = append(es, en)
	}
	return entrySet(es).ss
}

func (v *incView) ids(fn func(string)) {
	for _, xs := range v.x.servers {
		for _, en := range xs.keys {
			fn(en.id)
		}
	}
}

// entrySet returns the sessions of es in the order liveSessionsLocked
// lists them: by server, then as a snapshot lists them (FirstSeen, Key).
func entrySet(es []*incEntry) *evalSet {
	slices.SortFunc(es, entryCompare)
	set := &evalSet{ss: make([]app.Session, len(es)), ids: make([]string, len(es))}
	for i, en := range es {
		set.ss[i], set.ids[i] = en.s, en.id
	}
	return set
}

// entryCompare orders entries as liveSessionsLocked lists their sessions.
func entryCompare(a, b *incEntry) int {
	if a.srv != b.srv {
		return cmp.Compare(a.srv, b.srv)
	}
	if c := a.s.FirstSeen.Compare(b.s.FirstSeen); c != 0 {
		return c
	}
	return strings.Compare(a.key, b.key)
}

// isLive reports whether en is the index's entry of its stream now.
func (x *incIndex) isLive(en *incEntry) bool {
	xs := x.servers[en.s.Server]
	return xs != nil && xs.live && xs.keys[en.key] == en
}

// firstCounted returns the first stream (in the order of the live
// sessions) quota rule c counts as playing for user u; nil: none.
func (x *incIndex) firstCounted(c *compiled, u userID, counted map[actKey]userID) *app.Session {
	var first *incEntry
	for _, en := range x.byUser[u] {
		if cu, ok := counted[actKey{c.Name, en.id}]; ok && cu == u && (first == nil || entryCompare(en, first) < 0) {
			first = en
		}
	}
	if first == nil {
		return nil
	}
	return &first.s
}

// listed reports whether the index lists s (same stream) on its server;
// known is false when it does not follow the server's sessions.
func (x *incIndex) listed(s app.Session) (listed, known bool) {
	xs := x.servers[s.Server]
	if xs == nil || !xs.live {
		return false, false
	}
	en, ok := xs.keys[s.Key()]
	return ok && sameStream(en.s, s), true
}
