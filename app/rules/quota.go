package rules

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/internal/words"
)

// Quota counting.
const (
	// FlushEvery is how often the quota time used is saved while it
	// changes; it is also saved when a counted stream ends and when the
	// engine closes, so a crash loses at most this much counted time.
	FlushEvery = time.Minute
	// accountEvery is how often the engine counts playing time when no
	// update comes (Plex reports playing sessions about every 10 s).
	accountEvery = 30 * time.Second
	// maxCountGap is the longest step counted between two looks at a
	// playing stream: a longer gap (a lost server, a stopped engine) is
	// time nobody saw, and is not counted.
	maxCountGap = 2 * time.Minute
)

// HistoryQuotaWarning is the history action of a quota warning.
const HistoryQuotaWarning = "quotaWarning"

// QuotaUsage is the playing time a quota rule counted for a user in the
// current period. It is kept in UsageFile in Options.StateDir.
type QuotaUsage struct {
	Rule   string    `json:"rule"`
	User   string    `json:"user"`
	UserID string    `json:"userId,omitempty"`
	Start  time.Time `json:"start"` // the period's start: local midnight, or Monday 00:00
	Used   Duration  `json:"used"`
	Warned bool      `json:"warned,omitempty"` // the warning of this period was given
	// Limit and Resets (the next period's start) are filled in by
	// Engine.Usage; they are not stored.
	Limit  Duration  `json:"-"`
	Resets time.Time `json:"-"`
}

type usageKey struct {
	rule string
	user userID
}

type usageFile struct {
	Version int          `json:"version"`
	Usage   []QuotaUsage `json:"usage"`
}

// usageFunc returns the time a quota rule counted for the user of s in
// the period of now, and how many of the user's streams it counts as
// playing (the time grows that many times as fast); nil: no counting
// (the pure Evaluate).
type usageFunc func(c *compiled, s *app.Session, now time.Time) (used time.Duration, playing int)

// periodStart is the start of c's period holding now, in now's location.
func periodStart(c *compiled, now time.Time) time.Time {
	y, m, d := now.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
	if c.Period == PeriodWeek {
		start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7))
	}
	return start
}

// periodEnd is when the period starting at start ends.
func periodEnd(c *compiled, start time.Time) time.Time {
	if c.Period == PeriodWeek {
		return start.AddDate(0, 0, 7)
	}
	return start.AddDate(0, 0, 1)
}

func validateQuota(c *compiled) error {
	switch c.Period {
	case "", PeriodDay, PeriodWeek:
	default:
		return failField("period", "%q: use \"day\" or \"week\"", c.Period)
	}
	most := 24 * time.Hour
	if c.Period == PeriodWeek {
		most = 7 * 24 * time.Hour
	}
	if q := c.Quota.Std(); q < time.Minute || q > most {
		return failField("quota", "set the playing time allowed per %s, from 1m to %s (e.g. \"2h\")", periodWord(c), most)
	}
	if c.WarnBefore < 0 || c.WarnBefore >= c.Quota {
		return failField("warnBefore", "%s must be shorter than the quota (%s); 0 for no warning", c.WarnBefore.Std(), c.Quota.Std())
	}
	return nil
}

func periodWord(c *compiled) string {
	if c.Period == PeriodWeek {
		return "week"
	}
	return "day"
}

func quotaMatch(c *compiled, s *app.Session, now time.Time) (bool, time.Time) {
	if c.usage == nil {
		return false, time.Time{}
	}
	used, n := c.usage(c, s, now)
	limit := c.Quota.Std()
	if used >= limit {
		return true, time.Time{}
	}
	if s.State != "playing" || n == 0 {
		return false, time.Time{}
	}
	// Look again when the warning (or the limit) is reached if the
	// user's n streams play on.
	return false, now.Add(ceilDiv(nextThreshold(c, used)-used, n))
}

// nextThreshold is the next usage at which quota rule c acts, for a user
// who used less than the limit: the warning's, then the limit.
func nextThreshold(c *compiled, used time.Duration) time.Duration {
	limit := c.Quota.Std()
	if w := c.WarnBefore.Std(); w > 0 && limit-used > w {
		return limit - w
	}
	return limit
}

// ceilDiv is d/n rounded up (d > 0, n > 0).
func ceilDiv(d time.Duration, n int) time.Duration {
	return (d + time.Duration(n) - 1) / time.Duration(n)
}

func quotaReason(c *compiled, s *app.Session, now time.Time) string {
	what, when := "played", "today"
	if c.OnlyTranscodes {
		what = "transcoded"
	}
	again := "midnight"
	if c.Period == PeriodWeek {
		when, again = "this week", "Monday"
	}
	limit := fmt.Sprintf("the limit is %s a %s, counted again from %s", words.ShortDuration(c.Quota.Std()), periodWord(c), again)
	if c.usage == nil {
		return limit
	}
	used, _ := c.usage(c, s, now)
	return fmt.Sprintf("%s %s %s; %s", words.ShortDuration(used), what, when, limit)
}

// usedLocked is the engine's usageFunc (called with e.mu held): the
// time counted up to the last pass.
func (e *Engine) usedLocked(c *compiled, s *app.Session, now time.Time) (time.Duration, int) {
	u, ok := userOf(s)
	if !ok {
		return 0, 0
	}
	q, n, _ := e.usageOfLocked(usageKey{c.Name, u}, periodStart(c, now))
	return q.Used.Std(), n
}

// usageSnapshot is a usageFunc over a copy of the counts, for Preview.
func (e *Engine) usageSnapshot() usageFunc {
	e.mu.Lock()
	m := make(map[usageKey]QuotaUsage, len(e.usage)+len(e.live))
	e.usageKeysLocked(func(k usageKey) {
		if q, _, ok := e.usageViewLocked(k); ok {
			m[k] = q
		}
	})
	e.mu.Unlock()
	return func(c *compiled, s *app.Session, now time.Time) (time.Duration, int) {
		u, ok := userOf(s)
		if !ok {
			return 0, 0
		}
		if q, ok := m[usageKey{c.Name, u}]; ok && q.Start.Equal(periodStart(c, now)) {
			return q.Used.Std(), 0
		}
		return 0, 0
	}
}

// Usage returns the quota time counted in the current period, per quota
// rule in force and user, by rule then user.
func (e *Engine) Usage() []QuotaUsage {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	var out []QuotaUsage
	e.usageKeysLocked(func(k usageKey) {
		c := e.ruleLocked(k.rule)
		if c == nil || c.Kind != KindQuota {
			return
		}
		x, _, ok := e.usageViewLocked(k)
		if !ok || !x.Start.Equal(periodStart(c, now)) {
			return
		}
		x.Limit, x.Resets = c.Quota, periodEnd(c, x.Start)
		out = append(out, x)
	})
	slices.SortFunc(out, func(a, b QuotaUsage) int {
		if r := strings.Compare(a.Rule, b.Rule); r != 0 {
			return r
		}
		return strings.Compare(strings.ToLower(a.User), strings.ToLower(b.User))
	})
	return out
}

// warn carries out a quota warning: Plex cannot show a player a message
// without stopping its stream, so the warning goes to the admin (a
// notification) and the history.
func (e *Engine) warn(j job) {
	e.notify(app.Notification{Kind: app.NotifyTerminated, Title: fmt.Sprintf("Rule %q: %s", j.rule.Name, what(j.s)), Body: words.Capitalize(j.note) + "."})
	rec := e.record(j, j.s)
	rec.Action, rec.Message, rec.Outcome, rec.DryRun, rec.Detail = HistoryQuotaWarning, "", OutcomeNotified, false, j.note
	e.write(rec)
}

func (e *Engine) usageListLocked() usageFile {
	f := usageFile{Version: stateVersion, Usage: []QuotaUsage{}}
	e.usageKeysLocked(func(k usageKey) {
		if q, _, ok := e.usageViewLocked(k); ok {
			f.Usage = append(f.Usage, q)
		}
	})
	slices.SortFunc(f.Usage, func(a, b QuotaUsage) int {
		return strings.Compare(a.Rule+"\x00"+a.User, b.Rule+"\x00"+b.User)
	})
	return f
}

// loadUsage reads the counts saved by an earlier run.
func (e *Engine) loadUsage() {
	if e.opts.StateDir == "" {
		return
	}
	var f usageFile
	if err := loadState(filepath.Join(e.opts.StateDir, UsageFile), &f); err != nil {
		e.opts.Log.Error("reading the quota time used", "err", err)
	}
	for _, q := range f.Usage {
		s := app.Session{User: q.User, UserID: q.UserID}
		if u, ok := userOf(&s); ok {
			e.usage[usageKey{q.Rule, u}] = &q
		}
	}
}

// flushState saves what changed: the cool-downs at once, the quota counts
// every FlushEvery (or soon after a counted stream ended, or when final).
func (e *Engine) flushState(final bool) {
	if e.opts.StateDir == "" {
		return
	}
	now := e.now()
	e.mu.Lock()
	var blocks *blocksFile
	var usage *usageFile
	if e.blocksDirty {
		b := e.blockListLocked()
		blocks, e.blocksDirty = &b, false
	}
	if e.usageDirty && (final || e.flushSoon || now.Sub(e.lastFlush) >= FlushEvery) {
		u := e.usageListLocked()
		usage, e.usageDirty, e.flushSoon, e.lastFlush = &u, false, false, now
	}
	e.mu.Unlock()
	if blocks != nil {
		if err := e.saveBlocks(*blocks); err != nil {
			e.opts.Log.Error("saving the cool-downs", "err", err)
		}
	}
	if usage != nil {
		e.stateMu.Lock()
		err := saveState(filepath.Join(e.opts.StateDir, UsageFile), *usage)
		e.stateMu.Unlock()
		if err != nil {
			e.opts.Log.Error("saving the quota time used", "err", err)
		}
	}
}
