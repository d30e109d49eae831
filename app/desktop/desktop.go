// Package desktop assembles Plex Warden's domain parts for the desktop app:
// the controller (servers, monitors, actions), the rules engine, the
// history, the diagnostics detector, the local transcoder scanner with
// its clean-up policy, and the notifier with its senders (desktop popups
// and alert channels). It wires them to each other and hands the UI its
// data through Sinks. It imports nothing from Fyne; main.go connects it to
// the ui package.
package desktop

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/alert"
	"github.com/plexwarden/plexwarden/app/diag"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/app/local"
	"github.com/plexwarden/plexwarden/app/rules"
)

// Options configures New.
type Options struct {
	Controller app.ControllerOptions
	Log        *slog.Logger
	// LocalMatcher says which processes are transcoders; the zero value
	// means the default names (Plex Transcoder, ffmpeg).
	LocalMatcher local.Matcher
	// Notify sets the notifier's timings (tests shorten them).
	Notify app.NotifierOptions
}

// Sinks receive what the UI shows. Every function may be called from any
// goroutine and must return quickly (the UI's one-door Post methods do).
type Sinks struct {
	State func(*app.State)  // aggregated server state
	Local func(*local.Scan) // local transcoder scans
	Diag  func()            // diagnostics may have changed: pull Players/Active (called on every update)
	// Popups shows desktop popups (the kinds switched on in
	// Config.Notifications); nil shows none. If it has a Run(ctx) error
	// method (alert.Popups: the admin's choices in popups), Start runs it.
	Popups alert.Sender
}

// App is the assembled domain side of the desktop app.
type App struct {
	Ctrl    *app.Controller
	Engine  *rules.Engine
	History *history.Store
	Diag    *diag.Detector
	Policy  *local.Policy
	// Notifier decides what to tell and when; Alerts delivers it to the
	// popups and every alert channel.
	Notifier *app.Notifier
	Alerts   *alert.Dispatcher

	log     *slog.Logger
	matcher local.Matcher
	// alertSecrets caches the alert channels' keyring secrets by channel
	// name, read at Start and kept in step by SaveAlertChannel, so that
	// applying Settings never waits on the keyring.
	secretsMu    sync.Mutex
	alertSecrets map[string]string
	rulesErr     error
	cleanup      *app.LocalCleanup
	sinks        Sinks
	wg           sync.WaitGroup
}

// New loads the configuration, the rules file and the history. A broken
// config file is an error (*app.ConfigError); a broken rules file is not:
// the app starts with no rules, reports it through RulesError and never
// replaces the file.
func New(opts Options) (*App, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	opts.Controller.Log = opts.Log
	ctrl, err := app.NewController(opts.Controller)
	if err != nil {
		return nil, err
	}
	hist, err := history.Open(filepath.Join(ctrl.ConfigDir(), "history"))
	if err != nil {
		return nil, fmt.Errorf("opening the history: %w", err)
	}
	a := &App{Ctrl: ctrl, History: hist, Diag: diag.New(diag.Options{}), log: opts.Log, matcher: opts.LocalMatcher,
		Alerts: alert.New(alert.Options{Log: opts.Log}), alertSecrets: map[string]string{}}
	a.Notifier = app.NewNotifier(ctrl.Config().Notifications, opts.Notify)
	// Actions a crashed run sent without recording the answer.
	if closed, err := hist.ResolveOpenIntents(); err != nil {
		opts.Log.Warn("reading unfinished actions in the history", "err", err)
	} else {
		for _, r := range closed {
			opts.Log.Warn("action sent before Plex Warden stopped, result unknown", "action", r.Action, "server", r.Server, "user", r.User, "title", r.Title)
		}
	}
	f, err := rules.Load(a.RulesPath())
	if err != nil {
		a.rulesErr = err
		opts.Log.Error("rules file not used", "err", err)
		f = rules.File{Version: rules.Version}
	}
	// Cool-downs and quota time are kept in the configuration folder.
	a.Engine = rules.NewEngine(rules.Options{Actor: ctrl.Hub(), History: hist, Notify: a.notify, Log: opts.Log, Diag: a.Diag, StateDir: ctrl.ConfigDir()})
	if err := a.Engine.SetRules(f); err != nil && a.rulesErr == nil {
		a.rulesErr = err
	}
	a.Engine.SetPaused(ctrl.RulesPaused())
	a.Policy = local.NewPolicy(f.Local.Policy(f.DryRun), nil)
	ctrl.SetHooks(app.Hooks{
		Manual: func(s app.Session, action, message string, res app.Result, took time.Duration) {
			a.record(manualRecord(s, rules.Action(action), message, res, took))
			if action == "stopTranscode" {
				a.Notifier.TranscodeStopped(s, "you", res)
			} else {
				a.Notifier.Terminated(s, "you", res)
			}
		},
		RulesPaused: a.Engine.SetPaused,
		Moved: func(server, from, to, how string) {
			a.notify(app.Notification{Kind: app.NotifyServerBack, Title: server + " moved to another address",
				Body: "Now " + to + " (" + how + "); was " + from + "."})
		},
	})
	return a, nil
}

// RulesPath is the rules file the app reads and the Rules view saves.
func (a *App) RulesPath() string { return filepath.Join(a.Ctrl.ConfigDir(), rules.FileName) }

// RulesError is the problem with the rules file found at start, or nil.
func (a *App) RulesError() error { return a.rulesErr }

// SetRules saves f to the rules file and applies it (rules and local
// clean-up). The old rules stay when f is invalid.
func (a *App) SetRules(f rules.File) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if err := rules.Save(a.RulesPath(), f); err != nil {
		return err
	}
	if err := a.Engine.SetRules(f); err != nil {
		return err
	}
	a.Policy.SetConfig(f.Local.Policy(f.DryRun))
	a.rulesErr = nil
	return nil
}

// notify queues a ready-made notification (rules, diagnostics, clean-up,
// moves).
func (a *App) notify(n app.Notification) { a.Notifier.Push(n) }

// NotificationsChanged applies the saved notification switches and alert
// channels (ui: after Settings changed them).
func (a *App) NotificationsChanged() {
	cfg := a.Ctrl.Config()
	var chs []alert.Channel
	if a.sinks.Popups != nil {
		chs = append(chs, alert.Channel{Name: "desktop popups", Kinds: cfg.Notifications, Sender: a.sinks.Popups})
	}
	a.secretsMu.Lock()
	more, err := alert.FromConfig(cfg.Alerts, a.alertSecrets)
	a.secretsMu.Unlock()
	if err != nil {
		a.log.Error("alert channels not used", "err", err)
	}
	a.Alerts.SetChannels(append(chs, more...))
	a.Notifier.SetConfig(a.Alerts.Kinds())
}

func (a *App) record(r history.Record) {
	if err := a.History.Append(r); err != nil {
		a.log.Error("writing the history", "err", err)
	}
}

// Start wires everything to sinks and starts the monitors, the rules
// engine and the local scanner under ctx.
func (a *App) Start(ctx context.Context, sinks Sinks) error {
	a.sinks = sinks
	hub := a.Ctrl.Hub()
	a.cleanup = app.NewLocalCleanup(app.LocalCleanupConfig{Hub: hub, Matcher: a.matcher, Policy: a.Policy,
		Paused: a.Engine.Paused, Record: a.record, Notify: a.notify, OnScan: sinks.Local})
	if sinks.State != nil {
		hub.OnState(sinks.State)
	}
	// The detector first: a diagnostic rule then sees the finding the same
	// update produced.
	hub.OnUpdate(a.observeDiag)
	hub.OnUpdate(a.Engine.Observe)
	hub.OnUpdate(a.Notifier.Update)
	a.loadAlertSecrets(ctx)
	a.NotificationsChanged()
	a.Alerts.Start(ctx)
	if r, ok := sinks.Popups.(interface{ Run(context.Context) error }); ok {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			if err := r.Run(ctx); err != nil {
				a.log.Warn("popup actions unavailable", "err", err)
			}
		}()
	}
	a.wg.Add(3)
	go func() {
		defer a.wg.Done()
		a.Notifier.Run(ctx, a.Alerts.Send)
	}()
	go func() {
		defer a.wg.Done()
		_ = a.Engine.Run(ctx)
	}()
	go func() {
		defer a.wg.Done()
		_ = a.cleanup.Run(ctx)
	}()
	return a.Ctrl.Start(ctx)
}

// Wait blocks until everything started by Start has ended (after ctx).
func (a *App) Wait() {
	a.Ctrl.Hub().Wait()
	a.wg.Wait()
	a.Alerts.Wait()
	a.Engine.Close()
	_ = a.History.Close()
}

// observeDiag feeds the detector; each new finding is notified, recorded
// and shown.
func (a *App) observeDiag(up app.Update) {
	found := a.Diag.Observe(up)
	for _, f := range found {
		a.notify(app.Notification{Kind: app.NotifyDiagnostic, Title: f.Title(), Body: f.Text()})
		r := history.Record{Time: f.Time, Kind: "diagnostic", Server: f.Server, User: f.User, Player: f.PlayerID,
			Action: string(f.Kind), Outcome: "detected", Detail: f.Summary}
		for _, ev := range f.Evidence {
			if r.SessionKey == "" {
				r.SessionKey, r.SessionID, r.Title = ev.SessionKey, ev.SessionID, ev.Title
			}
		}
		a.record(r)
	}
	if a.sinks.Diag != nil {
		a.sinks.Diag() // timelines change with every update; the UI coalesces
	}
}

// KillLocal ends a local transcoder at the admin's request and records it
// (ui LocalBackend).
func (a *App) KillLocal(ctx context.Context, id local.ProcID) (local.KillResult, error) {
	start := time.Now()
	res, err := a.Ctrl.KillLocalMatching(ctx, id, a.matcher)
	rec := history.Record{Time: time.Now(), Kind: history.KindLocal, Action: "kill", Title: fmt.Sprintf("PID %d %s", id.PID, res.Name),
		Outcome: app.LocalKillOutcome(res, err), LatencyMs: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		rec.Detail = err.Error()
	}
	a.record(rec)
	if a.cleanup != nil {
		a.cleanup.Trigger()
	}
	return res, err
}

// manualRecord is the history record of an action the admin took by hand
// (the window, the tray): action is rules.ActionTerminate,
// rules.ActionStopTranscode or rules.ActionTerminateUser, took the time the
// call took.
func manualRecord(s app.Session, action rules.Action, message string, res app.Result, took time.Duration) history.Record {
	return history.Record{
		Time: time.Now(), Kind: history.KindManual, Server: s.Server, SessionID: s.ID, SessionKey: s.SessionKey,
		User: s.User, Title: s.Title, Player: rules.PlayerLabel(s.Player), Action: string(action), Message: message,
		Outcome: string(res.Outcome), LatencyMs: rules.Ms(took), Detail: rules.ErrText(res),
	}
}
