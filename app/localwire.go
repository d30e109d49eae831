package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/app/local"
	"github.com/plexwarden/plexwarden/internal/words"
	"github.com/plexwarden/plexwarden/plex"
)

// KillLocal ends a local transcoder process: SIGTERM, a short wait, then
// SIGKILL (TerminateProcess on Windows). Only transcoders are killed.
func (c *Controller) KillLocal(ctx context.Context, id local.ProcID) (local.KillResult, error) {
	return local.Kill(ctx, id, local.KillOptions{})
}

// KillLocalMatching is KillLocal for processes named as m says.
func (c *Controller) KillLocalMatching(ctx context.Context, id local.ProcID, m local.Matcher) (local.KillResult, error) {
	return local.Kill(ctx, id, local.KillOptions{Matcher: m})
}

// LocalLive links local transcoders to what the servers running on this
// computer report (see Hub.LocalLive).
func (c *Controller) LocalLive() local.LiveSource { return c.hub.LocalLive(false) }

// transcodeLister is the part of *plex.Client that lists the transcoder
// jobs (GET /transcode/sessions).
type transcodeLister interface {
	TranscodeSessions(ctx context.Context) ([]plex.TranscodeSession, error)
}

// LocalLive is the one answer to "which transcode keys does Plex still
// own" for the desktop app, `watch` and `local`: the playback sessions of
// the hub's latest snapshots (no extra request) plus each server's
// /transcode/sessions, asked on every call, which alone lists sync,
// download and optimize jobs (context "static"). Only connected servers on
// this computer count (every connected server with assumeLocal): the keys
// of a remote server would make every local process look orphaned. When
// no such server is connected, or one cannot be asked, it returns an error:
// unknown, never orphaned.
//
// It also names each local server's job folder from its settings
// (TranscoderTempDirectory, asked once per server), where the output of a
// transcoder running as another user is looked for.
func (h *Hub) LocalLive(assumeLocal bool) local.LiveSource {
	var mu sync.Mutex
	tempDirs := map[string]string{} // server → its session folder ("" for Plex's default)
	sessionDir := func(ctx context.Context, server string, term Terminator) string {
		mu.Lock()
		defer mu.Unlock()
		if d, ok := tempDirs[server]; ok {
			return d
		}
		td, ok := term.(local.TempDirAPI)
		if !ok {
			return ""
		}
		dir, err := td.TranscoderTempDir(ctx)
		if err != nil {
			return "" // asked again next time
		}
		tempDirs[server] = local.SessionDirOf(dir)
		return tempDirs[server]
	}
	return local.LiveFunc(func(ctx context.Context) (*local.Live, error) {
		st := h.State()
		live := &local.Live{}
		found := false
		for _, sn := range st.Servers {
			// The demo server is on loopback but runs no transcoders.
			if sn.Demo || sn.Conn.Status != Connected || (!assumeLocal && !local.IsLocalServer(sn.URL)) {
				continue
			}
			found = true
			var tcs []plex.TranscodeSession
			if term, err := h.terminator(sn.Server); err == nil {
				if tl, ok := term.(transcodeLister); ok {
					if tcs, err = tl.TranscodeSessions(ctx); err != nil {
						return nil, fmt.Errorf("%s: %w", sn.Server, err)
					}
				}
				if d := sessionDir(ctx, sn.Server, term); d != "" {
					live.SessionDirs = append(live.SessionDirs, d)
				}
			}
			l := local.LiveFromPlex(sn.Server, nil, tcs)
			for s := range sn.All() {
				ls := local.Session{
					Server: s.Server, SessionKey: s.SessionKey, ID: s.ID, User: s.User, Title: s.Title,
					Player: s.Player.Title, Product: s.Player.Product, State: s.State, TranscodeKey: s.TranscodeKey,
				}
				if ls.Player == "" {
					ls.Player = s.Player.Product
				}
				live.Sessions = append(live.Sessions, ls)
				if s.TranscodeKey != "" && !hasTranscode(l.Transcodes, s.TranscodeKey) {
					l.Transcodes = append(l.Transcodes, local.LiveTranscode{Key: s.TranscodeKey, Context: "streaming"})
				}
			}
			live.Transcodes = append(live.Transcodes, l.Transcodes...)
		}
		if !found {
			// Unknown, not orphaned: never let a missing link look like
			// death. The remote servers' own view of their transcodes
			// goes with it, for a desktop without the server.
			return nil, h.remoteJobs(ctx, st)
		}
		return live, nil
	})
}

// remoteJobs asks the connected servers (none of them on this computer)
// for their transcoder jobs.
func (h *Hub) remoteJobs(ctx context.Context, st *State) *local.ElsewhereError {
	e := &local.ElsewhereError{}
	for _, sn := range st.Servers {
		// The demo server too: its simulated jobs show what this view is.
		if sn.Conn.Status != Connected {
			continue
		}
		term, err := h.terminator(sn.Server)
		if err != nil {
			continue
		}
		tl, ok := term.(transcodeLister)
		if !ok {
			continue
		}
		tcs, err := tl.TranscodeSessions(ctx)
		if err != nil {
			e.Errs = append(e.Errs, sn.Server+": "+err.Error())
			continue
		}
		e.Jobs = append(e.Jobs, local.RemoteJobs(sn.Server, tcs)...)
	}
	return e
}

func hasTranscode(ts []local.LiveTranscode, key string) bool {
	for _, t := range ts {
		if t.Key == key {
			return true
		}
	}
	return false
}

// NewLocalScanner returns the scanner of this computer's transcoders
// (m: which process names count; the zero Matcher means the defaults),
// linked to local servers' sessions; onScan receives every scan.
func (c *Controller) NewLocalScanner(m local.Matcher, onScan func(*local.Scan)) *local.Scanner {
	return local.NewScanner(local.Options{Matcher: m, Live: c.LocalLive(), OnScan: onScan, Fast: 2 * time.Second})
}

// LocalCleanupConfig configures a LocalCleanup.
type LocalCleanupConfig struct {
	Hub     *Hub          // the servers whose sessions and jobs link the transcoders
	Matcher local.Matcher // which processes are transcoders; zero: the default names
	Policy  *local.Policy // the clean-up rules (rules file "local" section)
	// AssumeLocal links against every connected server, even one whose
	// address does not look like this computer (containers, proxies).
	AssumeLocal bool
	// Paused reports the global pause switch; nil: never paused. A paused
	// clean-up still scans and shows, but acts on nothing.
	Paused func() bool
	// Record stores one clean-up action (history, --json lines); required.
	Record func(history.Record)
	// Notify, when set, receives a popup per action.
	Notify func(Notification)
	// OnScan, when set, receives every scan before the policy sees it.
	OnScan func(*local.Scan)
	// Fast is the scan interval while transcoders run (default 2 s).
	Fast time.Duration
	// ForceAfter is the wait between SIGTERM and SIGKILL (default
	// local.DefaultForceAfter).
	ForceAfter time.Duration
	// SessionDirs, when set, replace local.DefaultSessionDirs.
	SessionDirs []string
	// NotApplicable, when set, is told once per process that an enabled
	// rule cannot judge it (local.IdleNotApplicable), with the reason.
	NotApplicable func(t *local.Transcoder, rule local.Rule, why string)
}

// LocalCleanup runs the local transcoder scanner and applies the clean-up
// policy to every scan: the desktop app and `plexwarden watch` share it, so
// both act, record and report alike. A finding for a live session asks
// Plex to stop its transcode; any other is a kill (SIGTERM, then SIGKILL
// after ForceAfter). One action per process runs at a time.
type LocalCleanup struct {
	cfg     LocalCleanupConfig
	scanner *local.Scanner

	wg       sync.WaitGroup
	mu       sync.Mutex
	inFlight map[local.ProcID]bool
	told     map[local.ProcID]bool // NotApplicable already said
}

// NewLocalCleanup returns a clean-up with cfg; Run starts it.
func NewLocalCleanup(cfg LocalCleanupConfig) *LocalCleanup {
	if cfg.Fast <= 0 {
		cfg.Fast = 2 * time.Second
	}
	if cfg.Policy == nil {
		cfg.Policy = local.NewPolicy(local.DefaultPolicyConfig(), nil)
	}
	l := &LocalCleanup{cfg: cfg, inFlight: map[local.ProcID]bool{}, told: map[local.ProcID]bool{}}
	return l
}

// Scanner returns the scanner Run uses (nil before Run).
func (l *LocalCleanup) Scanner() *local.Scanner {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.scanner
}

// Trigger asks for a scan now (after a kill, a transcode start, …).
func (l *LocalCleanup) Trigger() {
	if s := l.Scanner(); s != nil {
		s.Trigger()
	}
}

// Run scans and cleans up until ctx ends, then waits for the actions in
// flight (each bounded to 30 s and cancelled by ctx, and recorded) and
// returns ctx.Err().
func (l *LocalCleanup) Run(ctx context.Context) error {
	sc := local.NewScanner(local.Options{Matcher: l.cfg.Matcher, Live: l.cfg.Hub.LocalLive(l.cfg.AssumeLocal),
		Fast: l.cfg.Fast, SessionDirs: l.cfg.SessionDirs,
		OnScan: func(s *local.Scan) { l.onScan(ctx, s) }})
	l.mu.Lock()
	l.scanner = sc
	l.mu.Unlock()
	err := sc.Run(ctx)
	l.wg.Wait()
	return err
}

// onScan shows a scan and applies the policy to it.
func (l *LocalCleanup) onScan(ctx context.Context, s *local.Scan) {
	if l.cfg.OnScan != nil {
		l.cfg.OnScan(s)
	}
	if l.cfg.NotApplicable != nil {
		l.tellNotApplicable(s)
	}
	if l.cfg.Paused != nil && l.cfg.Paused() {
		return
	}
	for _, f := range l.cfg.Policy.Evaluate(s) {
		l.mu.Lock()
		busy := l.inFlight[f.Proc]
		l.inFlight[f.Proc] = true
		l.mu.Unlock()
		if busy {
			continue
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer func() {
				l.mu.Lock()
				delete(l.inFlight, f.Proc)
				l.mu.Unlock()
			}()
			l.act(ctx, f)
		}()
	}
}

// tellNotApplicable reports each process the idle rule cannot judge, once.
func (l *LocalCleanup) tellNotApplicable(s *local.Scan) {
	cfg := l.cfg.Policy.Config()
	present := map[local.ProcID]bool{}
	for i := range s.Transcoders {
		t := &s.Transcoders[i]
		present[t.ID()] = true
		why := local.IdleNotApplicable(cfg, t)
		if why == "" || l.told[t.ID()] {
			continue
		}
		l.told[t.ID()] = true
		l.cfg.NotApplicable(t, local.RuleIdle, why)
	}
	for id := range l.told {
		if !present[id] {
			delete(l.told, id)
		}
	}
}

// act carries out one finding: kill the process, or ask Plex to stop the
// transcode of a live session; then records and notifies.
func (l *LocalCleanup) act(ctx context.Context, f local.Finding) {
	// Ending ctx (quit, Ctrl-C) cancels the action; it is recorded as such.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rec := history.Record{Time: time.Now(), Kind: history.KindLocal, Rule: string(f.Rule), Action: string(f.Action),
		DryRun: f.DryRun, Title: fmt.Sprintf("PID %d %s", f.PID, f.Name), Detail: f.Reason}
	if f.Session != nil {
		rec.Server, rec.SessionKey, rec.SessionID, rec.User = f.Session.Server, f.Session.SessionKey, f.Session.ID, f.Session.User
		if f.Session.Title != "" {
			rec.Title += " · " + f.Session.Title
		}
	}
	if f.DryRun {
		rec.Outcome = string(OutcomeDryRun)
		l.cfg.Record(rec)
		return
	}
	start := time.Now()
	switch f.Action {
	case local.ActionStopTranscode:
		s, ok := l.sessionByTranscode(f.Key)
		if !ok {
			rec.Outcome = string(OutcomeGone)
			break
		}
		res := l.cfg.Hub.StopTranscode(ctx, s)
		rec.Outcome = string(res.Outcome)
		if res.Err != nil {
			rec.Detail += "; " + res.Err.Error()
		}
	default:
		res, err := local.Kill(ctx, f.Proc, local.KillOptions{Matcher: l.cfg.Matcher, ForceAfter: l.cfg.ForceAfter})
		rec.Outcome = LocalKillOutcome(res, err)
		if err != nil && !errors.Is(err, local.ErrNoProcess) {
			rec.Detail += "; " + err.Error()
		}
	}
	rec.LatencyMs = float64(time.Since(start).Microseconds()) / 1000
	l.cfg.Record(rec)
	if l.cfg.Notify != nil {
		l.cfg.Notify(Notification{Kind: NotifyTerminated, Title: fmt.Sprintf("Local transcoder %s: %s", rec.Outcome, rec.Title),
			Body: words.Capitalize(f.Reason) + " (rule " + string(f.Rule) + ")."})
	}
	l.Trigger()
}

func (l *LocalCleanup) sessionByTranscode(key string) (Session, bool) {
	for s := range l.cfg.Hub.State().All() {
		if s.TranscodeKey == key {
			return *s, true
		}
	}
	return Session{}, false
}

// LocalKillOutcome is the history outcome of a local.Kill: "done",
// "killed (SIGKILL)", "already gone", "refused" (not verified as a
// transcoder), "permission denied" or "failed".
func LocalKillOutcome(res local.KillResult, err error) string {
	switch {
	case errors.Is(err, local.ErrNoProcess) || res.Gone:
		return string(OutcomeGone)
	case errors.Is(err, local.ErrNotTranscoder):
		return "refused"
	case errors.Is(err, local.ErrPermission):
		return "permission denied"
	case err != nil:
		return string(OutcomeFailed)
	case res.Forced:
		return "killed (SIGKILL)"
	}
	return string(OutcomeDone)
}
