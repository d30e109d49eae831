package soak

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// The soak's rules: one rule of each kind the issue asks for, plus a
// log-only rule that matches many sessions (history traffic, never a call).
// Only xavier's video transcodes and paula's pauses are ever terminated;
// the scenario knows which sessions those are by construction, so it can
// tell a right termination from a wrong one.
const (
	userTranscodeBan = "xavier" // "no video transcodes from xavier", grace 0
	userPauser       = "paula"  // "paused for pausedFor", scoped to her
	pausedFor        = time.Second
)

// soakRules is the rules file of both soak tests.
var soakRules = `{
  "version": 1,
  "rules": [
    {
      "name": "No video transcodes from xavier",
      "kind": "transcode",
      "grace": "0s",
      "scope": { "users": ["xavier"] },
      "message": "{user}, this server does not convert {title} for {product}. {quality}"
    },
    {
      "name": "Paused too long",
      "kind": "paused",
      "pausedFor": "1s",
      "scope": { "users": ["paula"] }
    },
    {
      "name": "Remote streams (log only)",
      "kind": "remote",
      "action": "log"
    }
  ]
}
`

// tracked is the scenario's record of one simulated session.
type tracked struct {
	key, id, user string
	what          string          // how the scenario made it, for messages
	tkeys         map[string]bool // every transcode key it ever had
	// due is when a rule may terminate it at the earliest: when it began
	// to match (plus pausedFor for a pause); zero if no rule ever matched.
	due time.Time
	// direct: xavier without a video transcode yet (StartTranscode makes
	// a target); playing: paula not paused yet (SetState makes a target).
	direct, playing bool
}

func (tr *tracked) target() bool { return !tr.due.IsZero() }

func (tr *tracked) String() string {
	return fmt.Sprintf("session %s (%s, %s, id %s)", tr.key, tr.user, tr.what, tr.id)
}

// scenario drives the simulator: sessions start, transcode, pause, seek
// and end, and it remembers which ones the rules must terminate.
type scenario struct {
	r        *rand.Rand
	sim      *plexsim.Server
	sessions map[string]*tracked // by sessionKey
	byID     map[string]*tracked
	byTC     map[string]*tracked
	ops      map[string]int // operations done, by name
}

func newScenario(r *rand.Rand, sim *plexsim.Server) *scenario {
	return &scenario{r: r, sim: sim, sessions: map[string]*tracked{}, byID: map[string]*tracked{}, byTC: map[string]*tracked{}, ops: map[string]int{}}
}

var (
	otherUsers = []string{"alice", "bob", "carol"}
	players    = []plexsim.PlayerSpec{
		{Title: "Living Room", Product: "Plex for Roku", Platform: "Roku", Device: "Roku Ultra"},
		{Title: "Chrome", Product: "Plex Web", Platform: "Chrome", Device: "Linux"},
		{Title: "Pixel 8", Product: "Plex for Android (Mobile)", Platform: "Android", Device: "Pixel 8"},
		{Title: "Apple TV", Product: "Plex for Apple TV", Platform: "tvOS", Device: "Apple TV"},
	}
	videoTranscode = plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}
	audioTranscode = plexsim.TranscodeSpec{Video: plexsim.DecisionCopy, Audio: plexsim.DecisionTranscode}
	directStream   = plexsim.TranscodeSpec{Video: plexsim.DecisionCopy, Audio: plexsim.DecisionCopy}
	// burnOnly re-encodes a 1080p picture at 1080p to burn subtitles in:
	// the transcode rule leaves those alone (countSubtitleBurn is off).
	burnOnly = plexsim.TranscodeSpec{Subtitle: plexsim.DecisionBurn}
)

// spec returns a session of user with a random player; ten hours long so
// Advance never ends it.
func (sc *scenario) spec(user string, tc *plexsim.TranscodeSpec) plexsim.SessionSpec {
	p := players[sc.r.IntN(len(players))]
	p.MachineID = fmt.Sprintf("soak%08x", sc.r.Uint32())
	return plexsim.SessionSpec{
		User: user, Player: p, Title: fmt.Sprintf("Film %d", sc.r.IntN(1000)), Resolution: "1080",
		DurationMs: 10 * 3600 * 1000, Local: sc.r.IntN(2) == 0, Transcode: tc, Subtitles: "pgs",
	}
}

// add starts a session; due is when a rule may terminate it at the
// earliest, taken before the call (the monitor may see the session before
// AddSession returns), or zero if no rule matches it.
func (sc *scenario) add(spec plexsim.SessionSpec, what string, due time.Time) *tracked {
	ref := sc.sim.AddSession(spec)
	tr := &tracked{key: ref.Key, id: ref.ID, user: spec.User, what: what, tkeys: map[string]bool{}, due: due}
	sc.sessions[tr.key], sc.byID[tr.id] = tr, tr
	sc.noteTC(tr, ref.TranscodeKey)
	sc.ops["add "+what]++
	return tr
}

func (sc *scenario) noteTC(tr *tracked, key string) {
	if key != "" {
		tr.tkeys[key] = true
		sc.byTC[key] = tr
	}
}

// live returns the tracked sessions the simulator still plays, in key order.
func (sc *scenario) live() []*tracked {
	var out []*tracked
	for _, m := range sc.sim.Playing() {
		if tr, ok := sc.sessions[string(m.SessionKey)]; ok {
			out = append(out, tr)
		}
	}
	return out
}

func pick[T any](r *rand.Rand, list []T) (T, bool) {
	var zero T
	if len(list) == 0 {
		return zero, false
	}
	return list[r.IntN(len(list))], true
}

// step does one random thing a real server's users would do.
func (sc *scenario) step() {
	live := sc.live()
	var nonTargets []*tracked
	for _, tr := range live {
		if !tr.target() {
			nonTargets = append(nonTargets, tr)
		}
	}
	n := sc.r.IntN(100)
	switch {
	case len(live) > 24 && n < 40: // keep the population bounded
		if tr, ok := pick(sc.r, nonTargets); ok {
			sc.do("end", sc.sim.EndSession(tr.key))
		}
	case n < 10 || len(live) < 6:
		u := otherUsers[sc.r.IntN(len(otherUsers))]
		var tc *plexsim.TranscodeSpec
		switch sc.r.IntN(4) {
		case 0:
			tc = &videoTranscode
		case 1:
			tc = &audioTranscode
		case 2:
			tc = &directStream
		}
		sc.add(sc.spec(u, tc), "other user", time.Time{})
	case n < 16:
		sc.add(sc.spec(userTranscodeBan, &videoTranscode), "xavier video transcode", time.Now())
	case n < 22:
		var tc *plexsim.TranscodeSpec
		what := "xavier direct play"
		switch sc.r.IntN(4) {
		case 0:
			tc, what = &audioTranscode, "xavier audio-only transcode"
		case 1:
			tc, what = &burnOnly, "xavier subtitle burn at 1080p"
		case 2:
			tc, what = &directStream, "xavier direct stream"
		}
		tr := sc.add(sc.spec(userTranscodeBan, tc), what, time.Time{})
		tr.direct = tc == nil
	case n < 27:
		tr := sc.add(sc.spec(userPauser, nil), "paula playing", time.Time{})
		tr.playing = true
	case n < 30:
		spec := sc.spec(userPauser, nil)
		spec.State = plexsim.StatePaused
		sc.add(spec, "paula added paused", time.Now().Add(pausedFor))
	case n < 36: // paula pauses: from now on the paused rule must act
		var cands []*tracked
		for _, tr := range nonTargets {
			if tr.playing {
				cands = append(cands, tr)
			}
		}
		if tr, ok := pick(sc.r, cands); ok {
			due := time.Now().Add(pausedFor)
			if sc.do("paula pauses", sc.sim.SetState(tr.key, plexsim.StatePaused)) {
				tr.due, tr.playing, tr.what = due, false, "paula paused"
			}
		}
	case n < 41: // xavier's direct play starts transcoding video
		var cands []*tracked
		for _, tr := range nonTargets {
			if tr.direct {
				cands = append(cands, tr)
			}
		}
		if tr, ok := pick(sc.r, cands); ok {
			due := time.Now()
			key, err := sc.sim.StartTranscode(tr.key, videoTranscode)
			if sc.do("xavier starts transcoding", err) {
				tr.due, tr.direct, tr.what = due, false, "xavier direct play, then video transcode"
				sc.noteTC(tr, key)
			}
		}
	case n < 60: // others pause, buffer, resume
		var cands []*tracked
		for _, tr := range nonTargets {
			if tr.user != userPauser {
				cands = append(cands, tr)
			}
		}
		if tr, ok := pick(sc.r, cands); ok {
			st := []string{plexsim.StatePlaying, plexsim.StatePaused, plexsim.StateBuffering}[sc.r.IntN(3)]
			sc.do("state "+st, sc.sim.SetState(tr.key, st))
		}
	case n < 68: // others' transcodes start and stop
		var cands []*tracked
		for _, tr := range nonTargets {
			if tr.user != userTranscodeBan {
				cands = append(cands, tr)
			}
		}
		if tr, ok := pick(sc.r, cands); ok {
			if sc.r.IntN(2) == 0 {
				key, err := sc.sim.StartTranscode(tr.key, videoTranscode)
				if sc.do("other starts transcoding", err) {
					sc.noteTC(tr, key)
				}
			} else if err := sc.sim.StopTranscodeOf(tr.key); !errors.Is(err, plexsim.ErrNoTranscode) {
				sc.do("other stops transcoding", err)
			}
		}
	case n < 78: // anyone seeks (a transcode restarts under a new key)
		if tr, ok := pick(sc.r, live); ok {
			if sc.do("seek", sc.sim.Seek(tr.key, sc.r.Int64N(3600*1000))) {
				if ref, err := sc.sim.Ref(tr.key); err == nil {
					sc.noteTC(tr, ref.TranscodeKey)
				}
			}
		}
	case n < 88:
		if tr, ok := pick(sc.r, nonTargets); ok {
			sc.do("end", sc.sim.EndSession(tr.key))
		}
	default: // a timeline from every playing session
		sc.sim.Advance(10 * time.Second)
		sc.ops["advance 10s"]++
	}
}

// do counts an operation; a session a rule just ended is not an error.
func (sc *scenario) do(name string, err error) bool {
	if err != nil {
		if errors.Is(err, plexsim.ErrUnknownSession) {
			return false
		}
		panic(fmt.Sprintf("scenario %s: %v", name, err))
	}
	sc.ops[name]++
	return true
}

// checkCalls checks every terminate and stop-transcode the simulator saw:
// only sessions a rule matched, never before they matched, and at most
// one successful terminate each.
func (sc *scenario) checkCalls(calls []plexsim.Call) []string {
	var errs []string
	ok := map[*tracked]int{}
	for _, c := range calls {
		var tr *tracked
		switch c.Kind {
		case plexsim.CallTerminate:
			tr = sc.byID[c.SessionID]
		case plexsim.CallStopTranscode:
			tr = sc.byTC[c.TranscodeKey]
		}
		switch {
		case tr == nil:
			errs = append(errs, fmt.Sprintf("%s call %+v for a session the scenario never made", c.Kind, c))
		case !tr.target():
			errs = append(errs, fmt.Sprintf("%s call (status %d) on %v, which no rule matches", c.Kind, c.Status, tr))
		case c.Kind == plexsim.CallStopTranscode:
			errs = append(errs, fmt.Sprintf("stop-transcode call (status %d) on %v: terminate never needs escalating here", c.Status, tr))
		case c.Time.Before(tr.due):
			errs = append(errs, fmt.Sprintf("terminate of %v at %s, %s before any rule matched it", tr, c.Time.Format("15:04:05.000"), tr.due.Sub(c.Time)))
		case c.Status == 200:
			ok[tr]++
			if ok[tr] == 2 {
				errs = append(errs, fmt.Sprintf("%v terminated twice", tr))
			}
		}
	}
	return errs
}

// pendingTargets returns the targets the simulator still plays or that
// have no successful terminate, with the time each is overdue at.
func (sc *scenario) pendingTargets(calls []plexsim.Call) []*tracked {
	done := map[string]bool{}
	for _, c := range calls {
		if c.Kind == plexsim.CallTerminate && c.Status == 200 {
			done[c.SessionID] = true
		}
	}
	live := map[string]bool{}
	for _, tr := range sc.live() {
		live[tr.key] = true
	}
	var out []*tracked
	for _, tr := range sc.sessions {
		if tr.target() && (live[tr.key] || !done[tr.id]) {
			out = append(out, tr)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// opsSummary lists the operations done, most frequent first.
func (sc *scenario) opsSummary() string {
	type kv struct {
		k string
		v int
	}
	var list []kv
	for k, v := range sc.ops {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v || list[i].v == list[j].v && list[i].k < list[j].k })
	var parts []string
	for _, e := range list {
		parts = append(parts, fmt.Sprintf("%s %d", e.k, e.v))
	}
	return strings.Join(parts, ", ")
}

// simView describes the simulator's sessions the way the monitor's
// snapshot must show them: sessionKey → Session id, state, transcode key.
// The sessions playing: a stopped one Plex still lists for a few seconds
// is gone for the monitor, which saw it stop.
func simView(sim *plexsim.Server) map[string]string {
	out := map[string]string{}
	for _, m := range sim.Playing() {
		id, state, tc := "", "", ""
		if m.Session != nil {
			id = string(m.Session.ID)
		}
		if m.Player != nil {
			state = m.Player.State
		}
		if m.TranscodeSession != nil {
			tc = m.TranscodeSession.ID()
		}
		out[string(m.SessionKey)] = id + " " + state + " " + tc
	}
	return out
}

// viewDiff says how two views differ; "" when they are equal.
func viewDiff(want, got map[string]string) string {
	var d []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			d = append(d, fmt.Sprintf("missing %s (%s)", k, w))
		} else if g != w {
			d = append(d, fmt.Sprintf("%s is %q, want %q", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("extra %s (%s)", k, g))
		}
	}
	sort.Strings(d)
	return strings.Join(d, "; ")
}
