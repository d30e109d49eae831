package rules

import (
	"fmt"
	"strings"

	"github.com/plexwarden/plexwarden/app/local"
)

// LocalRules is the "local" section of the rules file: clean-up of this
// computer's transcoder processes (app/local's Policy). Every rule is off
// unless enabled; thresholds left at zero take local's defaults.
type LocalRules struct {
	// Orphan: a keyed transcoder whose Plex session has been gone for After.
	Orphan LocalRule `json:"orphan"`
	// Idle: no new output for After while its session is paused or gone.
	Idle LocalRule `json:"idle"`
	// CPUHog: above Percent of one core for After.
	CPUHog LocalRule `json:"cpuHog"`
	// MaxConcurrent: more than Max transcoders for After; Victim "newest"
	// (default) or "oldest" is stopped first.
	MaxConcurrent LocalRule `json:"maxConcurrent"`
	// IncludeExternal applies idle, CPU and concurrency to transcoders
	// without a Plex key (other ffmpeg processes) too.
	IncludeExternal bool `json:"includeExternal,omitempty"`
}

// LocalRule is one clean-up rule's switch and thresholds.
type LocalRule struct {
	Enabled bool     `json:"enabled"`
	After   Duration `json:"after,omitempty"`
	Percent float64  `json:"percent,omitempty"` // cpuHog
	Max     int      `json:"max,omitempty"`     // maxConcurrent
	Victim  string   `json:"victim,omitempty"`  // maxConcurrent: newest | oldest
}

// Enabled reports whether any clean-up rule is on (false for nil).
func (l *LocalRules) Enabled() bool {
	return l != nil && (l.Orphan.Enabled || l.Idle.Enabled || l.CPUHog.Enabled || l.MaxConcurrent.Enabled)
}

// Summary names the rules that are on, e.g. "orphan after 30s, idle after
// 5m0s, external ffmpeg included".
func (l *LocalRules) Summary() string {
	if !l.Enabled() {
		return "off"
	}
	cfg := l.Policy(false)
	var parts []string
	if cfg.Orphan.Enabled {
		parts = append(parts, "orphan after "+cfg.Orphan.After.String())
	}
	if cfg.Idle.Enabled {
		parts = append(parts, "idle after "+cfg.Idle.After.String())
	}
	if cfg.CPUHog.Enabled {
		parts = append(parts, fmt.Sprintf("cpu-hog over %.0f%% for %s", cfg.CPUHog.Percent, cfg.CPUHog.After))
	}
	if cfg.MaxConcurrent.Enabled {
		parts = append(parts, fmt.Sprintf("at most %d at once", cfg.MaxConcurrent.Max))
	}
	if cfg.IncludeExternal {
		parts = append(parts, "external ffmpeg included")
	}
	return strings.Join(parts, ", ")
}

// validate checks the thresholds.
func (l *LocalRules) validate() error {
	fail := func(field, format string, a ...any) error {
		return &FileError{Rule: -1, Field: "local." + field, Err: fmt.Errorf(format, a...)}
	}
	for name, r := range map[string]LocalRule{"orphan": l.Orphan, "idle": l.Idle, "cpuHog": l.CPUHog, "maxConcurrent": l.MaxConcurrent} {
		if r.After < 0 {
			return fail(name+".after", "must not be negative")
		}
	}
	if l.CPUHog.Percent < 0 {
		return fail("cpuHog.percent", "must not be negative")
	}
	if l.MaxConcurrent.Max < 0 {
		return fail("maxConcurrent.max", "must not be negative")
	}
	switch local.Victim(l.MaxConcurrent.Victim) {
	case "", local.VictimNewest, local.VictimOldest:
	default:
		return fail("maxConcurrent.victim", "%q is not newest or oldest", l.MaxConcurrent.Victim)
	}
	return nil
}

// Policy returns the local clean-up configuration, with dryRun from the
// file's global switch.
func (l *LocalRules) Policy(dryRun bool) local.PolicyConfig {
	cfg := local.DefaultPolicyConfig()
	cfg.DryRun = dryRun
	if l == nil {
		return cfg
	}
	cfg.Orphan.Enabled = l.Orphan.Enabled
	if l.Orphan.After > 0 {
		cfg.Orphan.After = l.Orphan.After.Std()
	}
	cfg.Idle.Enabled = l.Idle.Enabled
	if l.Idle.After > 0 {
		cfg.Idle.After = l.Idle.After.Std()
	}
	cfg.CPUHog.Enabled = l.CPUHog.Enabled
	if l.CPUHog.After > 0 {
		cfg.CPUHog.After = l.CPUHog.After.Std()
	}
	if l.CPUHog.Percent > 0 {
		cfg.CPUHog.Percent = l.CPUHog.Percent
	}
	cfg.MaxConcurrent.Enabled = l.MaxConcurrent.Enabled
	if l.MaxConcurrent.After > 0 {
		cfg.MaxConcurrent.After = l.MaxConcurrent.After.Std()
	}
	if l.MaxConcurrent.Max > 0 {
		cfg.MaxConcurrent.Max = l.MaxConcurrent.Max
	}
	if l.MaxConcurrent.Victim != "" {
		cfg.MaxConcurrent.Victim = local.Victim(l.MaxConcurrent.Victim)
	}
	cfg.IncludeExternal = l.IncludeExternal
	return cfg
}
