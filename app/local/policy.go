package local

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Rule names a clean-up rule of the Policy.
type Rule string

// The rules, in the order they are evaluated.
const (
	// RuleOrphan: a transcoder whose key no Plex session has had for After.
	RuleOrphan Rule = "orphan"
	// RuleIdle: no new output for After while its session is paused or gone.
	RuleIdle Rule = "idle"
	// RuleCPUHog: over Percent CPU for After.
	RuleCPUHog Rule = "cpu-hog"
	// RuleMaxConcurrent: more than Max transcoders for After.
	RuleMaxConcurrent Rule = "max-concurrent"
)

// Action is what a Finding asks the caller to do.
type Action string

// Actions.
const (
	// ActionKill: end the process with Kill(ctx, f.Proc, …). Used when
	// Plex no longer has (or is not asked about) the process's session.
	ActionKill Action = "kill"
	// ActionStopTranscode: the session is live, so ask Plex to stop the
	// transcode (DELETE /transcode/sessions/<f.Key>, plex.Client.StopTranscode)
	// rather than signal its process: PMS copes with that, while a killed
	// process may just be restarted (docs/plex-api.md §6.3, §7). If the
	// process outlives the request it turns orphan and RuleOrphan ends it.
	ActionStopTranscode Action = "stop-transcode"
)

// Victim says which transcoders RuleMaxConcurrent stops first. Orphans
// always go first, whatever the choice.
type Victim string

// Victims.
const (
	VictimNewest Victim = "newest" // the ones started last (default)
	VictimOldest Victim = "oldest" // the ones running longest
)

// OrphanRule configures RuleOrphan.
type OrphanRule struct {
	Enabled bool
	After   time.Duration // how long the key must be unknown to Plex (docs suggest ~30 s)
}

// IdleRule configures RuleIdle.
type IdleRule struct {
	Enabled bool
	After   time.Duration // how long without new output
}

// CPURule configures RuleCPUHog.
type CPURule struct {
	Enabled bool
	Percent float64       // threshold in percent of one core (150 = one and a half cores)
	After   time.Duration // how long it must stay above
}

// ConcurrencyRule configures RuleMaxConcurrent.
type ConcurrencyRule struct {
	Enabled bool
	Max     int           // transcoders allowed at once
	Victim  Victim        // which to stop first; "" means VictimNewest
	After   time.Duration // grace: a seek briefly runs the old and the new transcoder together
}

// PolicyConfig is the whole rule set. Background jobs (thumbnails,
// credits detection, …) are never subject to any rule.
type PolicyConfig struct {
	DryRun        bool // report what would be done (Finding.DryRun) and do nothing
	Orphan        OrphanRule
	Idle          IdleRule
	CPUHog        CPURule
	MaxConcurrent ConcurrencyRule
	// IncludeExternal makes the idle, CPU and concurrency rules apply to
	// transcoders without a Plex key too (ffmpeg of IPTV tools). Idle then
	// means no output growth for After; a process whose output cannot be
	// measured (a pipe, a URL) is never idle.
	IncludeExternal bool
}

// DefaultPolicyConfig returns the suggested thresholds with every rule
// off: cleaning up is the admin's choice.
func DefaultPolicyConfig() PolicyConfig {
	return PolicyConfig{
		Orphan:        OrphanRule{After: 30 * time.Second},
		Idle:          IdleRule{After: 5 * time.Minute},
		CPUHog:        CPURule{Percent: 200, After: 2 * time.Minute},
		MaxConcurrent: ConcurrencyRule{Max: 2, Victim: VictimNewest, After: 15 * time.Second},
	}
}

// Finding is one action a rule wants, with the reason in words.
type Finding struct {
	Rule    Rule      `json:"rule"`
	PID     int32     `json:"pid"`
	Proc    ProcID    `json:"proc"` // pass to Kill
	Name    string    `json:"name"`
	Key     string    `json:"key,omitempty"` // transcode key; for ActionStopTranscode
	Session *Session  `json:"session,omitempty"`
	Reason  string    `json:"reason"`
	Action  Action    `json:"action"`
	DryRun  bool      `json:"dryRun"` // report only
	At      time.Time `json:"at"`
}

// Policy evaluates the rules over successive scans. It is pure apart from
// its memory of how long each condition has held: no I/O, time comes from
// the injected clock. Each rule acts on a process at most once (dry-run
// reports are remembered apart, so turning dry-run off acts on them). Once
// a kill is due no other rule acts on that process; once Plex was asked to
// stop its transcode, no other rule asks again, but RuleOrphan may still
// kill a process that outlives the request. It is safe for concurrent use.
type Policy struct {
	mu    sync.Mutex
	cfg   PolicyConfig
	now   func() time.Time
	since map[condKey]time.Time // when a condition began to hold
	done  map[doneKey]bool      // rule acted (or reported, in dry-run) on the process
	kill  map[killKey]bool      // a kill is due: skip the other rules
	stop  map[killKey]bool      // Plex was asked to stop its transcode: do not ask again
	over  [2]time.Time          // concurrency limit exceeded since, per dry-run mode
}

type condKey struct {
	id   ProcID
	rule Rule
}

type doneKey struct {
	id   ProcID
	rule Rule
	dry  bool
}

type killKey struct {
	id  ProcID
	dry bool
}

// NewPolicy returns a policy with cfg. now is the clock (nil: time.Now).
func NewPolicy(cfg PolicyConfig, now func() time.Time) *Policy {
	if now == nil {
		now = time.Now
	}
	return &Policy{
		cfg:   cfg,
		now:   now,
		since: map[condKey]time.Time{},
		done:  map[doneKey]bool{},
		kill:  map[killKey]bool{},
		stop:  map[killKey]bool{},
	}
}

// SetConfig replaces the rules, keeping what the policy remembers. A rule
// turned off forgets its running conditions.
func (p *Policy) SetConfig(cfg PolicyConfig) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg = cfg
}

// Config returns the rules in force.
func (p *Policy) Config() PolicyConfig {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}

// cond is a condition's value in one scan.
type cond int

const (
	condFalse   cond = iota
	condTrue         // holds now
	condUnknown      // cannot tell (Plex not reachable, first CPU sample): keep what is known
)

// Evaluate returns the findings due after scan, in rule order then by
// process start.
func (p *Policy) Evaluate(scan *Scan) []Finding {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	cfg := p.cfg
	dry := cfg.DryRun
	if scan == nil {
		return nil
	}
	p.forgetGone(scan)

	var out []Finding
	emit := func(t *Transcoder, rule Rule, action Action, reason string) {
		dk, kk := doneKey{t.ID(), rule, dry}, killKey{t.ID(), dry}
		if p.done[dk] {
			return
		}
		p.done[dk] = true
		switch {
		case action == ActionKill:
			p.kill[kk] = true
		case p.stop[kk]:
			return // another rule already asked Plex to stop it
		default:
			p.stop[kk] = true
		}
		f := Finding{Rule: rule, PID: t.PID, Proc: t.ID(), Name: t.Name, Key: t.Key, Reason: reason, Action: action, DryRun: dry, At: now}
		if t.Session != nil {
			c := *t.Session
			f.Session = &c
		}
		out = append(out, f)
	}

	for i := range scan.Transcoders {
		t := &scan.Transcoders[i]
		id := t.ID()
		if t.Link == LinkBackground {
			continue
		}
		external := t.Link == LinkExternal
		if p.kill[killKey{id, dry}] {
			continue
		}

		// Orphan: the key is unknown to Plex.
		if c := orphanCond(t); p.track(id, RuleOrphan, cfg.Orphan.Enabled && !external, c, now) {
			if d := now.Sub(p.since[condKey{id, RuleOrphan}]); d >= cfg.Orphan.After {
				emit(t, RuleOrphan, ActionKill, fmt.Sprintf(
					"Orphaned transcoder: no Plex session has had transcode key %s for %s.", t.Key, fmtDur(d)))
				continue
			}
		}

		applies := !external || cfg.IncludeExternal

		// Idle: paused or gone, and no new output.
		if c, why := idleCond(t); p.track(id, RuleIdle, cfg.Idle.Enabled && applies, c, now) {
			from := latest(p.since[condKey{id, RuleIdle}], t.Output.LastActive)
			if d := now.Sub(from); d >= cfg.Idle.After {
				emit(t, RuleIdle, actionFor(t), fmt.Sprintf(
					"Idle transcoder: no new output for %s while %s.", fmtDur(now.Sub(t.Output.LastActive)), why))
				if actionFor(t) == ActionKill {
					continue
				}
			}
		}

		// CPU hog.
		if c := cpuCond(t, cfg.CPUHog.Percent); p.track(id, RuleCPUHog, cfg.CPUHog.Enabled && applies, c, now) {
			if d := now.Sub(p.since[condKey{id, RuleCPUHog}]); d >= cfg.CPUHog.After {
				emit(t, RuleCPUHog, actionFor(t), fmt.Sprintf(
					"CPU hog: %.0f%% CPU (over %.0f%%) for %s.", t.CPUPercent, cfg.CPUHog.Percent, fmtDur(d)))
			}
		}
	}

	p.concurrency(scan, cfg, now, emit)
	return out
}

// track updates the "since" of one condition and reports whether it holds
// now. A disabled rule forgets its condition.
func (p *Policy) track(id ProcID, rule Rule, enabled bool, c cond, now time.Time) bool {
	k := condKey{id, rule}
	if !enabled {
		delete(p.since, k)
		return false
	}
	switch c {
	case condTrue:
		if _, ok := p.since[k]; !ok {
			p.since[k] = now
		}
		return true
	case condFalse:
		delete(p.since, k)
	}
	return false // unknown: keep the since, act on a later definite scan
}

func orphanCond(t *Transcoder) cond {
	switch t.Link {
	case LinkOrphan:
		return condTrue
	case LinkUnknown:
		return condUnknown
	}
	return condFalse
}

// IdleNotApplicable says why the idle rule (enabled in cfg) cannot judge
// t, or "" when it can or does not concern t: its output cannot be
// measured (a pipe or URL, or the folder of a transcoder running as another
// user), so "no new output" would never be seen. Callers report it instead
// of letting the rule silently never fire.
func IdleNotApplicable(cfg PolicyConfig, t *Transcoder) string {
	if !cfg.Idle.Enabled || t.Link == LinkBackground || (t.Link == LinkExternal && !cfg.IncludeExternal) || t.Output.Known {
		return ""
	}
	why := "its output cannot be measured"
	if t.Output.Err != "" {
		why += " (" + t.Output.Err + ")"
	}
	return why
}

// idleCond: the session is paused or gone (or there is none to ask about,
// for included external transcoders) and the output can be measured.
func idleCond(t *Transcoder) (cond, string) {
	if !t.Output.Known {
		return condFalse, ""
	}
	switch {
	case t.Link == LinkOrphan:
		return condTrue, "its Plex session is gone"
	case t.Link == LinkLinked && t.Session != nil && t.Session.State == "paused":
		return condTrue, "its session is paused"
	case t.Link == LinkExternal:
		return condTrue, "it is not tied to a Plex session"
	case t.Link == LinkUnknown:
		return condUnknown, ""
	}
	return condFalse, ""
}

func cpuCond(t *Transcoder, limit float64) cond {
	if !t.CPUSampled {
		return condUnknown
	}
	if t.CPUPercent > limit {
		return condTrue
	}
	return condFalse
}

// actionFor stops a live session's transcode through Plex and kills
// everything else.
func actionFor(t *Transcoder) Action {
	if t.Link == LinkLinked && t.Key != "" {
		return ActionStopTranscode
	}
	return ActionKill
}

// concurrency applies RuleMaxConcurrent: the transcoders not yet handled
// are counted, and the excess over Max is stopped, orphans first.
func (p *Policy) concurrency(scan *Scan, cfg PolicyConfig, now time.Time, emit func(*Transcoder, Rule, Action, string)) {
	r := cfg.MaxConcurrent
	mode := 0
	if cfg.DryRun {
		mode = 1
	}
	if !r.Enabled || r.Max < 0 {
		p.over = [2]time.Time{}
		return
	}
	var cands []*Transcoder
	for i := range scan.Transcoders {
		t := &scan.Transcoders[i]
		if t.Link == LinkBackground || (t.Link == LinkExternal && !cfg.IncludeExternal) {
			continue
		}
		if kk := (killKey{t.ID(), cfg.DryRun}); p.kill[kk] || p.stop[kk] {
			continue // already being stopped
		}
		cands = append(cands, t)
	}
	if len(cands) <= r.Max {
		p.over[mode] = time.Time{}
		return
	}
	if p.over[mode].IsZero() {
		p.over[mode] = now
	}
	if now.Sub(p.over[mode]) < r.After {
		return
	}
	running := len(cands)
	sort.SliceStable(cands, func(i, j int) bool {
		oi, oj := cands[i].Link == LinkOrphan, cands[j].Link == LinkOrphan
		if oi != oj {
			return oi
		}
		if r.Victim == VictimOldest {
			return cands[i].Started.Before(cands[j].Started)
		}
		return cands[i].Started.After(cands[j].Started)
	})
	which := "newest"
	if r.Victim == VictimOldest {
		which = "oldest"
	}
	for _, t := range cands[:running-r.Max] {
		emit(t, RuleMaxConcurrent, actionFor(t), fmt.Sprintf(
			"Too many transcoders: %d running, the limit is %d; stopping the %s.", running, r.Max, which))
	}
	p.over[mode] = time.Time{}
}

// forgetGone drops what is remembered about processes not in scan.
func (p *Policy) forgetGone(scan *Scan) {
	present := make(map[ProcID]bool, len(scan.Transcoders))
	for i := range scan.Transcoders {
		present[scan.Transcoders[i].ID()] = true
	}
	for k := range p.since {
		if !present[k.id] {
			delete(p.since, k)
		}
	}
	for k := range p.done {
		if !present[k.id] {
			delete(p.done, k)
		}
	}
	for k := range p.kill {
		if !present[k.id] {
			delete(p.kill, k)
		}
	}
	for k := range p.stop {
		if !present[k.id] {
			delete(p.stop, k)
		}
	}
}

// fmtDur prints a duration for reasons: "45s", "2m10s", "1h5m".
func fmtDur(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= time.Hour {
		d = d.Round(time.Minute)
		s := d.String()
		return s[:len(s)-2] // drop "0s"
	}
	return d.String()
}
