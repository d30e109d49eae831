package rules

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/internal/words"
)

// Block is a cool-down in force: after rule Rule stopped a stream of the
// user, the user's new streams (only those in the rule's scope with
// CoolDownRule) are stopped at once until Until, with a message saying
// when they can play again. Blocks are kept in BlocksFile in
// Options.StateDir, so a restart keeps them.
type Block struct {
	User   string    `json:"user"`             // as Plex lists the user
	UserID string    `json:"userId,omitempty"` // Plex account id, when known
	Rule   string    `json:"rule"`             // the rule that started it
	Scope  string    `json:"scope"`            // CoolDownAll or CoolDownRule
	Reason string    `json:"reason,omitempty"` // why the rule acted, in words
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until"`
	// Allowed are the user's streams that were live when the block began
	// (not new: they play on), by the engine's stream identity.
	Allowed []string `json:"allowed,omitempty"`
}

// History actions of cool-downs.
const (
	HistoryBlockStart = "blockStart" // a cool-down began (Detail: until when)
	HistoryBlock      = "block"      // a new stream was stopped by a cool-down
	HistoryBlockLift  = "blockLift"  // the admin lifted a cool-down
)

// Outcomes of cool-down records besides the terminate outcomes.
const (
	OutcomeStarted = "started" // HistoryBlockStart
	OutcomeLifted  = "lifted"  // HistoryBlockLift
)

// blockKeyPrefix keeps a block's "acted on" marks apart from its rule's.
const blockKeyPrefix = "\x00block:"

type blocksFile struct {
	Version int     `json:"version"`
	Blocks  []Block `json:"blocks"`
}

func (b *Block) user() userID {
	if b.UserID != "" {
		return userID{id: b.UserID}
	}
	return userID{name: strings.ToLower(b.User)}
}

// matchesUser reports whether b is about user: a name (any case) or a
// Plex account id.
func (b *Block) matchesUser(user string) bool {
	user = strings.TrimSpace(user)
	return user != "" && (strings.EqualFold(b.User, user) || (b.UserID != "" && b.UserID == user))
}

// Blocks returns the cool-downs in force, soonest to end first.
func (e *Engine) Blocks() []Block {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	var out []Block
	for _, b := range e.blocks {
		if now.Before(b.Until) {
			c := *b
			c.Allowed = slices.Clone(b.Allowed)
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b Block) int { return a.Until.Compare(b.Until) })
	return out
}

// LiftBlock ends every cool-down of user (a name, any case, or a Plex
// account id) at once, records each in the history and saves the state;
// it returns how many it lifted (0: the user had none).
func (e *Engine) LiftBlock(user string) (int, error) {
	e.mu.Lock()
	now := e.now()
	var lifted []Block
	kept := e.blocks[:0]
	for _, b := range e.blocks {
		if b.matchesUser(user) && now.Before(b.Until) {
			lifted = append(lifted, *b)
			continue
		}
		kept = append(kept, b)
	}
	clear(e.blocks[len(kept):])
	e.blocks = kept
	list := e.blockListLocked()
	e.mu.Unlock()
	if len(lifted) == 0 {
		return 0, nil
	}
	err := e.saveBlocks(list)
	for _, b := range lifted {
		e.write(history.Record{Kind: history.KindManual, User: b.User, Rule: b.Rule, Action: HistoryBlockLift, Outcome: OutcomeLifted,
			Detail: fmt.Sprintf("cool-down lifted by the admin; it would have ended at %s", e.clock(b.Until))})
	}
	return len(lifted), err
}

// startBlock begins (or extends) the cool-down of the rule of j for the
// user of s, after the rule stopped s.
func (e *Engine) startBlock(j job, s app.Session) {
	c := j.rule
	if c.CoolDown <= 0 || j.blockOf != "" {
		return
	}
	u, ok := userOf(&s)
	if !ok {
		return // an unknown user cannot be told apart from others
	}
	now := e.now()
	until := now.Add(c.CoolDown.Std())
	scope := c.CoolDownScope
	if scope == "" {
		scope = CoolDownAll
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	var b *Block
	for _, x := range e.blocks {
		if x.Rule == c.Name && x.user() == u && now.Before(x.Until) {
			b = x
		}
	}
	if b == nil {
		b = &Block{User: s.User, UserID: s.UserID, Rule: c.Name, Scope: scope, Reason: j.reason, Since: now}
		own := ident(s)
		for _, x := range e.liveSessionsLocked() {
			if v, ok := userOf(&x); ok && v == u && ident(x) != own {
				b.Allowed = append(b.Allowed, ident(x))
			}
		}
		e.blocks = append(e.blocks, b)
	}
	b.Until = latest(b.Until, until)
	b.Scope = scope
	list := e.blockListLocked()
	e.mu.Unlock()
	if err := e.saveBlocks(list); err != nil {
		e.opts.Log.Error("saving the cool-downs", "err", err)
	}
	rec := e.record(j, s)
	rec.Action, rec.Message, rec.Outcome = HistoryBlockStart, "", OutcomeStarted
	rec.Detail = fmt.Sprintf("%s's new streams%s are stopped until %s (cool-down %s)", s.User, scopeWords(scope), e.clock(until), words.ShortDuration(c.CoolDown.Std()))
	e.write(rec)
}

// logBlock records the cool-down a dry run or log-only rule would start.
func (e *Engine) logBlock(j job) {
	if j.rule.CoolDown <= 0 || j.blockOf != "" {
		return
	}
	rec := e.record(j, j.s)
	rec.Action, rec.Message, rec.Outcome, rec.DryRun = HistoryBlockStart, "", string(app.OutcomeDryRun), true
	rec.Detail = fmt.Sprintf("would stop %s's new streams%s for %s, until %s", j.s.User, scopeWords(j.rule.CoolDownScope),
		words.ShortDuration(j.rule.CoolDown.Std()), e.clock(e.now().Add(j.rule.CoolDown.Std())))
	e.write(rec)
}

func scopeWords(scope string) string {
	if scope == CoolDownRule {
		return " in the rule's scope"
	}
	return ""
}

// enforceBlocksLocked drops ended cool-downs and returns a terminate job
// for every new stream of a blocked user.
func (e *Engine) enforceBlocksLocked(v view, now, trigger time.Time) (jobs []job, wake time.Time) {
	if len(e.blocks) == 0 {
		clear(e.retryAt)
		return nil, wake
	}
	kept := e.blocks[:0]
	for _, b := range e.blocks {
		if now.Before(b.Until) {
			kept = append(kept, b)
		}
	}
	if len(kept) != len(e.blocks) {
		clear(e.blocks[len(kept):])
		e.blocksDirty = true
	}
	e.blocks = kept
	for _, b := range e.blocks {
		c := e.ruleLocked(b.Rule)
		sessions := v.user(b.user())
		for i := range sessions {
			s := &sessions[i]
			if !e.blockedLocked(b, c, s) {
				continue
			}
			id := ident(*s)
			if _, ok := e.claimed[id]; ok {
				continue
			}
			k := actKey{blockKeyPrefix + b.Rule, id}
			if _, done := e.acted[k]; done {
				continue
			}
			if at, ok := e.retryAt[k]; ok {
				if now.Before(at) {
					wake = earliest(wake, at)
					continue
				}
				delete(e.retryAt, k)
			}
			e.acted[k], e.seen[id] = now, now
			if !e.file.DryRun {
				e.claimed[id] = now
			}
			br := &compiled{Rule: Rule{Name: b.Rule, Action: ActionTerminate}}
			if c != nil {
				br.Kind, br.FallbackStopTranscode, br.spec = c.Kind, c.FallbackStopTranscode, c.spec
			}
			reason := fmt.Sprintf("cool-down after rule %q until %s", b.Rule, e.clock(b.Until))
			jobs = append(jobs, job{rule: br, s: *s, reason: reason, message: e.blockMessage(b), dryRun: e.file.DryRun, trigger: trigger, blockOf: b.Rule})
		}
	}
	return jobs, wake
}

// blockedLocked reports whether cool-down b (of rule c, nil when it is
// gone) stops s: a new stream of its user, in the rule's scope with
// CoolDownRule, never one the rule exempts.
func (e *Engine) blockedLocked(b *Block, c *compiled, s *app.Session) bool {
	if b.Scope == CoolDownRule && c == nil {
		return false // the rule is gone: its scope is unknown
	}
	if !touchable(s) {
		return false
	}
	if v, ok := userOf(s); !ok || v != b.user() {
		return false
	}
	if slices.Contains(b.Allowed, ident(*s)) {
		return false
	}
	return c == nil || !(c.exempted(s) || (b.Scope == CoolDownRule && !c.applies(s)))
}

// blockMessage is what a player stopped by a cool-down shows.
func (e *Engine) blockMessage(b *Block) string {
	why := ""
	if b.Reason != "" {
		why = " (" + b.Reason + ")"
	}
	m := fmt.Sprintf("A stream of yours was stopped a moment ago%s, so new streams are paused for a while. You can play again at %s.", why, e.clock(b.Until))
	if n := len([]rune(m)); n > maxRendered {
		m = fmt.Sprintf("New streams are paused for a while. You can play again at %s.", e.clock(b.Until))
	}
	return m
}

// clock is t as the viewer reads it: "21:30" today, "Sat 21:30" on another
// day, in the engine's time zone.
func (e *Engine) clock(t time.Time) string {
	t = t.In(e.opts.Location)
	now := e.now()
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	return t.Format("Mon 15:04")
}

func (e *Engine) ruleLocked(name string) *compiled {
	for _, c := range e.rules {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (e *Engine) blockListLocked() blocksFile {
	f := blocksFile{Version: stateVersion, Blocks: []Block{}}
	for _, b := range e.blocks {
		f.Blocks = append(f.Blocks, *b)
	}
	return f
}

// saveBlocks writes the cool-downs to BlocksFile (none without a StateDir).
func (e *Engine) saveBlocks(f blocksFile) error {
	if e.opts.StateDir == "" {
		return nil
	}
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	return saveState(filepath.Join(e.opts.StateDir, BlocksFile), f)
}

// loadBlocks reads the cool-downs still in force at start.
func (e *Engine) loadBlocks() {
	if e.opts.StateDir == "" {
		return
	}
	var f blocksFile
	if err := loadState(filepath.Join(e.opts.StateDir, BlocksFile), &f); err != nil {
		e.opts.Log.Error("reading the cool-downs", "err", err)
	}
	now := e.now()
	for _, b := range f.Blocks {
		if now.Before(b.Until) {
			e.blocks = append(e.blocks, &b)
		}
	}
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
