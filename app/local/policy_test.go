package local

import (
	"strings"
	"testing"
	"time"
)

// clock is a manual clock for Policy tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

var t0 = time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)

// proc builds a transcoder for policy tests.
func proc(pid int32, link LinkStatus, opts ...func(*Transcoder)) Transcoder {
	t := Transcoder{PID: pid, Name: "Plex Transcoder", Kind: KindPlex, Started: t0.Add(time.Duration(pid) * time.Second), Link: link}
	if link != LinkBackground && link != LinkExternal {
		t.Key = "key" + string(rune('a'+pid%26))
	}
	if link == LinkExternal {
		t.Kind, t.Name = KindFFmpeg, "ffmpeg"
	}
	if link == LinkLinked {
		t.Session = &Session{User: "alice", State: "playing", TranscodeKey: t.Key}
	}
	for _, o := range opts {
		o(&t)
	}
	return t
}

func paused(t *Transcoder) { t.Session.State = "paused" }

func quietSince(at time.Time) func(*Transcoder) {
	return func(t *Transcoder) { t.Output = Output{Known: true, Files: 3, Newest: at, LastActive: at} }
}

func cpu(pct float64) func(*Transcoder) {
	return func(t *Transcoder) { t.CPUPercent, t.CPUSampled = pct, true }
}

func scanOf(ts ...Transcoder) *Scan { return &Scan{Transcoders: ts} }

// rules lists the findings as "rule:pid:action" for comparison.
func rules(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		s := string(f.Rule) + ":" + itoa(f.PID) + ":" + string(f.Action)
		if f.DryRun {
			s += ":dry"
		}
		out = append(out, s)
	}
	return out
}

func itoa(n int32) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func orphanOnly(after time.Duration) PolicyConfig {
	return PolicyConfig{Orphan: OrphanRule{Enabled: true, After: after}}
}

// step is one scan in a policy scenario: advance the clock, evaluate the
// scan, expect these findings.
type step struct {
	advance time.Duration
	scan    *Scan
	want    []string
}

func runSteps(t *testing.T, cfg PolicyConfig, steps []step) *Policy {
	t.Helper()
	c := &clock{t: t0.Add(time.Hour)}
	p := NewPolicy(cfg, c.now)
	for i, s := range steps {
		c.advance(s.advance)
		got := rules(p.Evaluate(s.scan))
		if strings.Join(got, " ") != strings.Join(s.want, " ") {
			t.Errorf("step %d (+%s): findings = %q, want %q", i, s.advance, got, s.want)
		}
	}
	return p
}

func TestPolicyOrphan(t *testing.T) {
	orphan := scanOf(proc(1, LinkOrphan))
	linked := scanOf(proc(1, LinkLinked))
	unknown := scanOf(proc(1, LinkUnknown))
	tests := []struct {
		name  string
		cfg   PolicyConfig
		steps []step
	}{
		{"fires after N seconds, once", orphanOnly(30 * time.Second), []step{
			{0, orphan, nil},
			{29 * time.Second, orphan, nil},
			{time.Second, orphan, []string{"orphan:1:kill"}},
			{10 * time.Second, orphan, nil},
		}},
		{"a session coming back resets the timer", orphanOnly(30 * time.Second), []step{
			{0, orphan, nil},
			{20 * time.Second, linked, nil},
			{20 * time.Second, orphan, nil},
			{29 * time.Second, orphan, nil},
			{time.Second, orphan, []string{"orphan:1:kill"}},
		}},
		{"unknown (Plex unreachable) neither fires nor resets", orphanOnly(30 * time.Second), []step{
			{0, orphan, nil},
			{20 * time.Second, unknown, nil},
			{20 * time.Second, unknown, nil},
			{time.Second, orphan, []string{"orphan:1:kill"}},
		}},
		{"never while only unknown", orphanOnly(time.Second), []step{
			{0, unknown, nil},
			{time.Minute, unknown, nil},
		}},
		{"disabled", PolicyConfig{Orphan: OrphanRule{After: time.Second}}, []step{
			{0, orphan, nil},
			{time.Minute, orphan, nil},
		}},
		{"dry run reports once", PolicyConfig{DryRun: true, Orphan: OrphanRule{Enabled: true, After: time.Second}}, []step{
			{0, orphan, nil},
			{time.Second, orphan, []string{"orphan:1:kill:dry"}},
			{time.Second, orphan, nil},
		}},
		{"background jobs are never orphans", orphanOnly(0), []step{
			{0, scanOf(proc(1, LinkBackground), proc(2, LinkExternal), proc(3, LinkKeyOnly)), nil},
			{time.Hour, scanOf(proc(1, LinkBackground), proc(2, LinkExternal), proc(3, LinkKeyOnly)), nil},
		}},
		{"a reused PID is a new process", orphanOnly(10 * time.Second), []step{
			{0, orphan, nil},
			{10 * time.Second, orphan, []string{"orphan:1:kill"}},
			{time.Second, scanOf(proc(1, LinkOrphan, func(t *Transcoder) { t.Started = t0.Add(time.Hour) })), nil},
			{10 * time.Second, scanOf(proc(1, LinkOrphan, func(t *Transcoder) { t.Started = t0.Add(time.Hour) })), []string{"orphan:1:kill"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runSteps(t, tt.cfg, tt.steps) })
	}
}

func TestPolicyIdle(t *testing.T) {
	base := t0.Add(time.Hour)
	cfg := PolicyConfig{Idle: IdleRule{Enabled: true, After: time.Minute}}
	tests := []struct {
		name  string
		cfg   PolicyConfig
		steps []step
	}{
		{"paused and quiet: stop through Plex", cfg, []step{
			{0, scanOf(proc(1, LinkLinked, paused, quietSince(base))), nil},
			{59 * time.Second, scanOf(proc(1, LinkLinked, paused, quietSince(base))), nil},
			{time.Second, scanOf(proc(1, LinkLinked, paused, quietSince(base))), []string{"idle:1:stop-transcode"}},
		}},
		{"quiet for long, paused just now: counts from the pause", cfg, []step{
			{0, scanOf(proc(1, LinkLinked, paused, quietSince(base.Add(-time.Hour)))), nil},
			{59 * time.Second, scanOf(proc(1, LinkLinked, paused, quietSince(base.Add(-time.Hour)))), nil},
			{time.Second, scanOf(proc(1, LinkLinked, paused, quietSince(base.Add(-time.Hour)))), []string{"idle:1:stop-transcode"}},
		}},
		{"output resumes: counts from the new output", cfg, []step{
			{0, scanOf(proc(1, LinkLinked, paused, quietSince(base))), nil},
			{50 * time.Second, scanOf(proc(1, LinkLinked, paused, quietSince(base.Add(50*time.Second)))), nil},
			{50 * time.Second, scanOf(proc(1, LinkLinked, paused, quietSince(base.Add(50*time.Second)))), nil},
			{10 * time.Second, scanOf(proc(1, LinkLinked, paused, quietSince(base.Add(50*time.Second)))), []string{"idle:1:stop-transcode"}},
		}},
		{"playing is never idle", cfg, []step{
			{0, scanOf(proc(1, LinkLinked, quietSince(base))), nil},
			{time.Hour, scanOf(proc(1, LinkLinked, quietSince(base))), nil},
		}},
		{"gone: kill", cfg, []step{
			{0, scanOf(proc(1, LinkOrphan, quietSince(base))), nil},
			{time.Minute, scanOf(proc(1, LinkOrphan, quietSince(base))), []string{"idle:1:kill"}},
		}},
		{"unmeasurable output is never idle", cfg, []step{
			{0, scanOf(proc(1, LinkOrphan)), nil},
			{time.Hour, scanOf(proc(1, LinkOrphan)), nil},
		}},
		{"external ffmpeg only when included", cfg, []step{
			{0, scanOf(proc(1, LinkExternal, quietSince(base))), nil},
			{time.Hour, scanOf(proc(1, LinkExternal, quietSince(base))), nil},
		}},
		{"external ffmpeg included", PolicyConfig{IncludeExternal: true, Idle: cfg.Idle}, []step{
			{0, scanOf(proc(1, LinkExternal, quietSince(base))), nil},
			{time.Minute, scanOf(proc(1, LinkExternal, quietSince(base))), []string{"idle:1:kill"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runSteps(t, tt.cfg, tt.steps) })
	}
}

func TestPolicyCPUHog(t *testing.T) {
	cfg := PolicyConfig{CPUHog: CPURule{Enabled: true, Percent: 150, After: 30 * time.Second}}
	tests := []struct {
		name  string
		steps []step
	}{
		{"over for N seconds", []step{
			{0, scanOf(proc(1, LinkLinked, cpu(190))), nil},
			{30 * time.Second, scanOf(proc(1, LinkLinked, cpu(180))), []string{"cpu-hog:1:stop-transcode"}},
			{30 * time.Second, scanOf(proc(1, LinkLinked, cpu(180))), nil},
		}},
		{"a dip resets", []step{
			{0, scanOf(proc(1, LinkKeyOnly, cpu(190))), nil},
			{20 * time.Second, scanOf(proc(1, LinkKeyOnly, cpu(90))), nil},
			{20 * time.Second, scanOf(proc(1, LinkKeyOnly, cpu(190))), nil},
			{30 * time.Second, scanOf(proc(1, LinkKeyOnly, cpu(190))), []string{"cpu-hog:1:kill"}},
		}},
		{"unsampled keeps the state", []step{
			{0, scanOf(proc(1, LinkKeyOnly, cpu(190))), nil},
			{20 * time.Second, scanOf(proc(1, LinkKeyOnly)), nil},
			{10 * time.Second, scanOf(proc(1, LinkKeyOnly, cpu(190))), []string{"cpu-hog:1:kill"}},
		}},
		{"background jobs may burn CPU", []step{
			{0, scanOf(proc(1, LinkBackground, cpu(390))), nil},
			{time.Hour, scanOf(proc(1, LinkBackground, cpu(390))), nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runSteps(t, cfg, tt.steps) })
	}
}

func TestPolicyMaxConcurrent(t *testing.T) {
	three := scanOf(proc(1, LinkLinked), proc(2, LinkLinked), proc(3, LinkLinked))
	withOrphan := scanOf(proc(1, LinkOrphan), proc(2, LinkLinked), proc(3, LinkLinked))
	limit := func(v Victim, after time.Duration) PolicyConfig {
		return PolicyConfig{MaxConcurrent: ConcurrencyRule{Enabled: true, Max: 2, Victim: v, After: after}}
	}
	tests := []struct {
		name  string
		cfg   PolicyConfig
		steps []step
	}{
		{"newest goes", limit(VictimNewest, 0), []step{
			{0, three, []string{"max-concurrent:3:stop-transcode"}},
			{time.Second, three, nil}, // 3 is being stopped: not counted, not picked again
		}},
		{"oldest goes", limit(VictimOldest, 0), []step{
			{0, three, []string{"max-concurrent:1:stop-transcode"}},
		}},
		{"orphans go first", limit(VictimNewest, 0), []step{
			{0, withOrphan, []string{"max-concurrent:1:kill"}},
		}},
		{"grace for seeks", limit(VictimNewest, 10*time.Second), []step{
			{0, three, nil},
			{5 * time.Second, scanOf(proc(1, LinkLinked), proc(3, LinkLinked)), nil},
			{5 * time.Second, three, nil},
			{10 * time.Second, three, []string{"max-concurrent:3:stop-transcode"}},
		}},
		{"within the limit", limit(VictimNewest, 0), []step{
			{0, scanOf(proc(1, LinkLinked), proc(2, LinkLinked), proc(3, LinkBackground)), nil},
		}},
		{"external not counted unless included", limit(VictimNewest, 0), []step{
			{0, scanOf(proc(1, LinkLinked), proc(2, LinkLinked), proc(3, LinkExternal)), nil},
		}},
		{"excess of two", PolicyConfig{MaxConcurrent: ConcurrencyRule{Enabled: true, Max: 1}}, []step{
			{0, three, []string{"max-concurrent:3:stop-transcode", "max-concurrent:2:stop-transcode"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runSteps(t, tt.cfg, tt.steps) })
	}
}

func TestPolicyOneKillPerProcess(t *testing.T) {
	base := t0.Add(time.Hour)
	cfg := PolicyConfig{
		Orphan: OrphanRule{Enabled: true, After: 10 * time.Second},
		Idle:   IdleRule{Enabled: true, After: 10 * time.Second},
		CPUHog: CPURule{Enabled: true, Percent: 100, After: 10 * time.Second},
	}
	s := scanOf(proc(1, LinkOrphan, quietSince(base), cpu(300)))
	runSteps(t, cfg, []step{
		{0, s, nil},
		{10 * time.Second, s, []string{"orphan:1:kill"}},
		{10 * time.Second, s, nil},
	})
}

func TestPolicyOneStopRequestThenEscalation(t *testing.T) {
	base := t0.Add(time.Hour)
	cfg := PolicyConfig{
		Orphan: OrphanRule{Enabled: true, After: 10 * time.Second},
		Idle:   IdleRule{Enabled: true, After: 10 * time.Second},
		CPUHog: CPURule{Enabled: true, Percent: 100, After: 10 * time.Second},
	}
	live := scanOf(proc(1, LinkLinked, paused, quietSince(base), cpu(300)))
	gone := scanOf(proc(1, LinkOrphan, quietSince(base), cpu(300)))
	runSteps(t, cfg, []step{
		{0, live, nil},
		// Idle and CPU hog are both due: Plex is asked once.
		{10 * time.Second, live, []string{"idle:1:stop-transcode"}},
		{10 * time.Second, live, nil},
		// Plex ended the session but the process lingers: orphan, killed.
		{time.Second, gone, nil},
		{10 * time.Second, gone, []string{"orphan:1:kill"}},
	})
}

func TestPolicyDryRunThenLive(t *testing.T) {
	c := &clock{t: t0}
	cfg := PolicyConfig{DryRun: true, Orphan: OrphanRule{Enabled: true, After: time.Second}}
	p := NewPolicy(cfg, c.now)
	s := scanOf(proc(7, LinkOrphan))
	p.Evaluate(s)
	c.advance(time.Second)
	if got := rules(p.Evaluate(s)); len(got) != 1 || got[0] != "orphan:7:kill:dry" {
		t.Fatalf("dry run findings = %q, want [orphan:7:kill:dry]", got)
	}
	cfg.DryRun = false
	p.SetConfig(cfg)
	if got := rules(p.Evaluate(s)); len(got) != 1 || got[0] != "orphan:7:kill" {
		t.Errorf("after dry run off: findings = %q, want [orphan:7:kill]", got)
	}
	if got := p.Config(); got.DryRun {
		t.Errorf("Config().DryRun = true, want false")
	}
}

func TestPolicyFindingFields(t *testing.T) {
	c := &clock{t: t0}
	p := NewPolicy(orphanOnly(45*time.Second), c.now)
	s := scanOf(proc(4242, LinkOrphan))
	p.Evaluate(s)
	c.advance(45 * time.Second)
	fs := p.Evaluate(s)
	if len(fs) != 1 {
		t.Fatalf("findings = %+v, want one", fs)
	}
	f := fs[0]
	want := Finding{Rule: RuleOrphan, PID: 4242, Proc: s.Transcoders[0].ID(), Name: "Plex Transcoder", Key: s.Transcoders[0].Key,
		Action: ActionKill, At: c.t,
		Reason: "Orphaned transcoder: no Plex session has had transcode key " + s.Transcoders[0].Key + " for 45s."}
	if f != want {
		t.Errorf("finding = %+v\nwant      %+v", f, want)
	}
}

func TestPolicyForgetsGoneProcesses(t *testing.T) {
	c := &clock{t: t0}
	p := NewPolicy(orphanOnly(10*time.Second), c.now)
	p.Evaluate(scanOf(proc(1, LinkOrphan)))
	c.advance(5 * time.Second)
	p.Evaluate(scanOf())
	if n := len(p.since) + len(p.done) + len(p.kill) + len(p.stop); n != 0 {
		t.Errorf("policy remembers %d entries after the process left, want 0", n)
	}
	if fs := p.Evaluate(nil); fs != nil {
		t.Errorf("Evaluate(nil) = %v, want nil", fs)
	}
}

func TestFmtDur(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{45 * time.Second, "45s"},
		{130 * time.Second, "2m10s"},
		{65 * time.Minute, "1h5m"},
		{1400 * time.Millisecond, "1s"},
	}
	for _, tt := range tests {
		if got := fmtDur(tt.d); got != tt.want {
			t.Errorf("fmtDur(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// Idle means no viewer: a quiet transcoder is idle only when its session
// is paused or gone (or, for included external ffmpeg, it has none); one
// ahead of a watching viewer (throttled), a sync job and a process whose
// output cannot be measured never are, and the last says why.
func TestIdleMeansNoViewer(t *testing.T) {
	cfg := PolicyConfig{Idle: IdleRule{Enabled: true, After: time.Minute}, IncludeExternal: true}
	quiet := quietSince(t0)
	tests := []struct {
		name    string
		tr      Transcoder
		want    []string
		wantWhy string // IdleNotApplicable
	}{
		{"playing, throttled ahead of the viewer", proc(1, LinkLinked, quiet, func(t *Transcoder) { t.Session.Throttled, t.Session.Speed = true, 0.9 }), nil, ""},
		{"playing, not throttled", proc(2, LinkLinked, quiet), nil, ""},
		{"paused", proc(3, LinkLinked, quiet, paused), []string{"idle:3:stop-transcode"}, ""},
		{"paused but throttled", proc(4, LinkLinked, quiet, paused, func(t *Transcoder) { t.Session.Throttled = true }), []string{"idle:4:stop-transcode"}, ""},
		{"sync job", proc(5, LinkLinked, quiet, func(t *Transcoder) { t.Session = &Session{TranscodeKey: t.Key, Context: "static", Speed: 2} }), nil, ""},
		{"gone", proc(6, LinkOrphan, quiet), []string{"idle:6:kill"}, ""},
		{"external, quiet", proc(7, LinkExternal, quiet), []string{"idle:7:kill"}, ""},
		{"output not measurable", proc(8, LinkLinked, paused, func(t *Transcoder) { t.Output = Output{Err: "permission denied"} }), nil,
			"its output cannot be measured (permission denied)"},
		{"external to a pipe", proc(9, LinkExternal, func(t *Transcoder) { t.Output = Output{Err: "output folder unknown"} }), nil,
			"its output cannot be measured (output folder unknown)"},
		{"background job", proc(10, LinkBackground), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t0.Add(2 * time.Minute)}
			p := NewPolicy(cfg, c.now)
			_ = p.Evaluate(scanOf(tt.tr))
			c.advance(2 * time.Minute)
			got := rules(p.Evaluate(scanOf(tt.tr)))
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("findings = %v, want %v", got, tt.want)
			}
			if why := IdleNotApplicable(cfg, &tt.tr); why != tt.wantWhy {
				t.Errorf("IdleNotApplicable = %q, want %q", why, tt.wantWhy)
			}
		})
	}
}
