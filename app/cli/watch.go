package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/diag"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/app/local"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/internal/words"
	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// cmdWatch is `plexwarden watch`: the monitors and the rules without the
// desktop app, printing every session event and rule action until ctx ends
// (Ctrl-C, SIGTERM). It watches the server of --server or PLEX_URL, else
// every configured server, under the names the desktop app uses, so a
// rule's scope.servers means the same in both.
func cmdWatch(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "watch", "[--demo] [--config FILE] [--dry-run] [--json] [--history DIR] [--server NAME|URL] [--assume-local]",
		"Watch the server and apply the automatic rules without the desktop app, printing every session event\n"+
			"and rule action. The rules file format is described in docs/RULES.md. Stop with Ctrl-C.\n\n"+
			"Run on the Plex server's own computer, watch also carries out the rules file's \"local\" section:\n"+
			"it scans the transcoder processes and ends orphaned, idle, CPU-hogging or surplus ones, like the\n"+
			"desktop app. A section the mode cannot carry out is reported at start.")
	config := fs.String("config", "", "rules file (default <config dir>/"+rules.FileName+")")
	dryRun := fs.Bool("dry-run", false, "only log what the rules would do; send nothing to the server")
	asJSON := fs.Bool("json", false, "print one JSON object per line for every event and action")
	histDir := fs.String("history", "", "history directory (default <config dir>/history); \"off\" keeps none")
	targets := targetsFlag(env, fs)
	assumeLocal := fs.Bool("assume-local", false, "carry out the local section even when the server address does not look like this computer (containers, proxies)")
	forceAfter := fs.Duration("force-after", local.DefaultForceAfter, "local clean-up: how long to wait after SIGTERM before SIGKILL")
	matcher := matcherFlags(fs)
	demo := fs.Bool("demo", false, "watch the built-in demo server (simulated sessions) with example rules, to see Plex Warden work\n"+
		"without a Plex server; keeps no history unless --history is given")
	if err := parseNone(env, fs, args); err != nil {
		return err
	}
	if *forceAfter <= 0 {
		fmt.Fprintln(env.Stderr, "plexwarden watch: --force-after must be positive")
		return errUsage
	}

	path := *config
	if *demo && path == "" {
		path = demoRulesName
	} else if path == "" {
		dir, err := app.DefaultConfigDir()
		if err != nil {
			return fmt.Errorf("no configuration directory: %w", err)
		}
		path = filepath.Join(dir, rules.FileName)
	} else if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("rules file %s: %w", path, errors.Unwrap(err))
	}
	var file rules.File
	var err error
	if path == demoRulesName {
		file, err = rules.Parse([]byte(demoRules))
	} else {
		file, err = rules.Load(path)
	}
	if err != nil {
		return err
	}
	if *dryRun {
		file.DryRun = true
	}
	var ts []target
	if *demo {
		if *histDir == "" {
			*histDir = "off"
		}
		ts, err = demoTarget(ctx, env)
	} else {
		ts, err = targets()
	}
	if err != nil {
		return err
	}
	out := &watchOutput{w: env.Stdout, json: *asJSON, conn: map[string]app.ConnStatus{}}
	if ts, err = skipNoToken(out, ts); err != nil {
		return err
	}
	for _, t := range ts {
		defer t.Client.HTTPClient().CloseIdleConnections()
	}

	var hist *history.Store
	if *histDir != "off" {
		dir := *histDir
		if dir == "" {
			cfg, err := app.DefaultConfigDir()
			if err != nil {
				return fmt.Errorf("no configuration directory: %w", err)
			}
			dir = filepath.Join(cfg, "history")
		}
		if hist, err = history.Open(dir); err != nil {
			return fmt.Errorf("cannot open the history: %w", err)
		}
		defer hist.Close()
	}

	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if hist != nil {
		// Actions a killed run sent without recording the answer.
		closed, err := hist.ResolveOpenIntents()
		if err != nil {
			fmt.Fprintf(env.Stderr, "plexwarden: reading unfinished actions in the history: %v\n", err)
		}
		for _, r := range closed {
			out.action(r)
		}
	}
	hub := app.NewHub()
	det := diag.New(diag.Options{})
	rec := teeRecorder{out: out, hist: hist}
	// The desktop app's settings (config.json): its pause switch pauses
	// watch too, and its alert channels get watch's notifications. The
	// demo uses neither: its simulated sessions must not reach the admin's
	// phone, nor its example rules' state the admin's folders.
	var cfg app.Config
	stateDir := ""
	if !*demo {
		if dir, err := app.DefaultConfigDir(); err == nil {
			cfg, _ = app.LoadConfig(filepath.Join(dir, "config.json"))
		}
		// Cool-downs and quota time live next to the rules file.
		stateDir = filepath.Dir(path)
	}
	alerts := newWatchAlerts(ctx, env, cfg, log, out)
	engine := rules.NewEngine(rules.Options{Actor: hub, History: rec, Log: log, Diag: det, Notify: alerts.Notifier.Push, StateDir: stateDir})
	if err := engine.SetRules(file); err != nil {
		return err
	}
	if cfg.RulesPaused {
		engine.SetPaused(true)
	}
	// The detector first, so diagnostic rules see what this update found;
	// then the rules react before anything is printed.
	hub.OnUpdate(func(up app.Update) {
		for _, f := range det.Observe(up) {
			alerts.Notifier.Push(app.Notification{Kind: app.NotifyDiagnostic, Title: f.Title(), Body: f.Text()})
			out.finding(f)
			if hist != nil {
				_ = hist.Append(findingRecord(f))
			}
		}
	})
	hub.OnUpdate(engine.Observe)
	hub.OnUpdate(out.update)
	hub.OnUpdate(alerts.Notifier.Update)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	engineDone := make(chan struct{})
	go func() {
		defer close(engineDone)
		_ = engine.Run(ctx)
	}()
	alertsDone := make(chan struct{})
	go func() {
		defer close(alertsDone)
		alerts.run(ctx)
	}()
	st := engine.Status()
	mode := ""
	if file.DryRun {
		mode = ", dry run: nothing will be sent"
	}
	// The local section runs when a watched server is on this computer.
	var cleanup *app.LocalCleanup
	if on, why := localPlan(file.Local, ts, *assumeLocal); why != "" {
		out.notice(env.Stderr, "local", why)
	} else if on {
		cleanup = app.NewLocalCleanup(app.LocalCleanupConfig{Hub: hub, Matcher: matcher(), AssumeLocal: *assumeLocal,
			Policy: local.NewPolicy(file.Local.Policy(file.DryRun), nil), Paused: engine.Paused,
			Record: func(r history.Record) { _ = rec.Append(r) }, ForceAfter: *forceAfter,
			NotApplicable: func(t *local.Transcoder, rule local.Rule, why string) {
				out.notice(env.Stderr, "local", fmt.Sprintf("rule %s does not apply to PID %d %s: %s", rule, t.PID, t.Name, why))
			}})
	}
	if st.Rules == 0 && cleanup == nil {
		fmt.Fprintf(env.Stderr, "No rules in %s: only watching (see docs/RULES.md).\n", path)
	}
	if engine.Paused() {
		out.notice(env.Stderr, "paused", "rules are paused (the desktop app's switch): nothing will be done until it is turned back on")
	}
	var names []string
	mons := make([]*app.Monitor, len(ts))
	watches := make([]func(context.Context), len(ts))
	for i, t := range ts {
		names = append(names, t.Name)
		feed := t.Client.NewFeed(nil)
		feed.AuthMinBackoff, feed.AuthMaxBackoff = env.TokenRetryMin, env.TokenRetryMax
		mons[i] = app.NewMonitor(app.MonitorConfig{Server: t.Name, URL: t.Client.BaseURL(), Source: t.Client, Feed: feed, Log: log,
			RejectAtStart: true}) // a bad token at start is an error; later, a state retried slowly
		// A server signed in through plex.tv moves to another of its
		// addresses when the one in use fails (not saved: the next start
		// finds it again the same way).
		watches[i] = app.NewAddressWatch(app.AddressWatchConfig{Server: t.Config, Client: t.Client, Feed: feed, Monitor: mons[i],
			Options: env.Reprobe, Info: t.Client.Info(), Log: log, Moved: out.moved})
	}
	cleanupText := ""
	if cleanup != nil {
		cleanupText = " and the local clean-up (" + file.Local.Summary() + ")"
	}
	fmt.Fprintf(env.Stderr, "Watching %s with %d of %d rules enabled%s%s%s. Ctrl-C to stop.\n", strings.Join(names, ", "), st.Enabled, st.Rules, cleanupText, alerts.summary(), mode)

	for i, t := range ts {
		if watches[i] != nil {
			hub.Start(ctx, mons[i], t.Client, watches[i])
		} else {
			hub.Start(ctx, mons[i], t.Client)
		}
	}
	cleanupDone := make(chan struct{})
	go func() {
		defer close(cleanupDone)
		if cleanup != nil {
			_ = cleanup.Run(ctx) // start-up recovery: a leftover is judged like any other, never before "after"
		}
	}()
	hub.Wait() // until ctx ends, or every server rejected its token at start
	cancel()
	<-cleanupDone // clean-up actions in flight end and are recorded
	<-engineDone  // Run closes the engine: actions in flight end, history written
	<-alertsDone
	var errs []error
	for i, t := range ts {
		if conn := mons[i].Snapshot().Conn; conn.Status == app.Unauthorized {
			errs = append(errs, &plex.Error{Op: "watch " + t.Name, Server: t.Client.BaseURL(), Err: plex.ErrUnauthorized, Detail: conn.Err})
		}
	}
	return errors.Join(errs...)
}

// demoRulesName stands for the rules of watch --demo in messages.
const demoRulesName = "the demo's example rules"

// demoRules are watch --demo's rules: a 4K transcode is ended after a short
// grace (the demo starts with two), a long pause is only logged.
const demoRules = `{
  "version": 1,
  "rules": [
    {"name": "No 4K transcodes", "kind": "sourceTranscode", "minResolution": "4K", "grace": "5s"},
    {"name": "Paused over 30 min", "kind": "paused", "pausedFor": "30m", "action": "log"}
  ]
}`

// demoTarget starts the demo server (the simulator with the desktop app's
// demo scenario) on 127.0.0.1 until ctx ends, and returns it as the one
// server to watch.
func demoTarget(ctx context.Context, env Env) ([]target, error) {
	sim := plexsim.New(plexsim.Options{Token: "demo", FriendlyName: app.DemoServerName, PlexPass: true})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("starting the demo server: %w", err)
	}
	go func() {
		plexsim.RunDemo(ctx, sim, time.Now().UnixNano())
		_ = sim.Close()
	}()
	c, err := plex.NewClient(sim.URL(), "demo", plex.ClientInfo{Product: plex.DefaultProduct, Version: env.Version})
	if err != nil {
		return nil, err
	}
	return []target{{Name: app.DemoServerName, Client: c}}, nil
}

// teeRecorder prints each rule action and appends it to the history.
type teeRecorder struct {
	out  *watchOutput
	hist *history.Store
}

// Append prints r (not an intent: its outcome follows), then stores it.
func (t teeRecorder) Append(r history.Record) error {
	if r.Outcome != history.OutcomeSending {
		t.out.action(r)
	}
	if t.hist == nil {
		return nil
	}
	return t.hist.Append(r)
}

// watchLine is one line of `watch --json`. Every line has the fields from
// time to latencyMs; the others appear when they apply.
type watchLine struct {
	Time time.Time `json:"time"`
	// Kind is "session" (Event: started, changed, ended), "connection"
	// (Event: the new status), "action" (a rule or the local clean-up
	// acted; Action says how), "collision" or "storm" (diagnostics), or
	// "notice" (Event: "local", "paused", …: a part of the rules file this
	// run does not carry out, and why, in Detail).
	Kind      string  `json:"kind"`
	Server    string  `json:"server"`
	SessionID string  `json:"sessionId"`
	User      string  `json:"user"`
	Rule      string  `json:"rule"`
	Action    string  `json:"action"`
	DryRun    bool    `json:"dryRun"`
	Outcome   string  `json:"outcome"`
	LatencyMs float64 `json:"latencyMs"`

	Event      string `json:"event,omitempty"`
	SessionKey string `json:"sessionKey,omitempty"`
	Title      string `json:"title,omitempty"`
	Player     string `json:"player,omitempty"`
	Decision   string `json:"decision,omitempty"` // sessions: e.g. "Transcode (HEVC 4K→1080p)"
	State      string `json:"state,omitempty"`
	Message    string `json:"message,omitempty"`
	Detail     string `json:"detail,omitempty"`
	// NextRetry is when a server that is down or rejected the token is
	// tried again (connection lines).
	NextRetry *time.Time `json:"nextRetry,omitempty"`
	// collision / storm lines (app/diag findings)
	PlayerID string              `json:"playerId,omitempty"`
	Remedy   string              `json:"remedy,omitempty"`
	Evidence []diag.EvidenceItem `json:"evidence,omitempty"`
	Counts   *diag.Counts        `json:"counts,omitempty"`
}

// watchOutput writes events and actions, one line each, from the
// monitor's and the engine's goroutines.
type watchOutput struct {
	w    io.Writer
	json bool

	mu   sync.Mutex
	conn map[string]app.ConnStatus
}

func (o *watchOutput) update(up app.Update) {
	sn := up.Snapshot
	if sn == nil {
		return
	}
	now := time.Now()
	latency := 0.0
	if !up.Event.IsZero() {
		latency = float64(now.Sub(up.Event).Microseconds()) / 1000
	}
	var lines []watchLine
	o.mu.Lock()
	if prev, ok := o.conn[sn.Server]; !ok || prev != sn.Conn.Status {
		o.conn[sn.Server] = sn.Conn.Status
		l := watchLine{Time: now, Kind: "connection", Server: sn.Server, Event: sn.Conn.Status.String(), Detail: sn.Conn.Err}
		if !sn.Conn.NextRetry.IsZero() {
			at := sn.Conn.NextRetry
			l.NextRetry = &at
		}
		lines = append(lines, l)
	}
	o.mu.Unlock()
	for _, ch := range up.Changes {
		s := ch.Session
		if ch.Kind == app.Changed && ch.Prev != nil && sameLine(*ch.Prev, s) {
			continue // nothing the line shows changed (the source read, a terminate under way)
		}
		lines = append(lines, watchLine{Time: now, Kind: "session", Event: ch.Kind.String(), Server: s.Server, SessionID: s.ID,
			SessionKey: s.SessionKey, User: s.User, Title: s.Title, Player: playerText(s.Player), Decision: s.Short,
			State: s.State, LatencyMs: latency})
	}
	o.write(lines...)
}

// sameLine reports whether a and b give the same session line.
func sameLine(a, b app.Session) bool {
	return a.ID == b.ID && a.SessionKey == b.SessionKey && a.User == b.User && a.Title == b.Title &&
		a.Player == b.Player && a.Short == b.Short && a.State == b.State
}

// notice reports, once at start or once per process, something the rules
// ask that this run cannot do (kind "notice"; Event says which part):
// on stderr in plain words, and as a JSON line with --json.
func (o *watchOutput) notice(stderr io.Writer, part, text string) {
	if o.json {
		o.write(watchLine{Time: time.Now(), Kind: "notice", Event: part, Detail: text})
		return
	}
	fmt.Fprintf(stderr, "Note (%s): %s\n", part, text)
}

// localPlan says whether watch carries out the local section l for the
// servers ts: on when a rule is enabled and a server is on this computer
// (any, with assumeLocal); why, when a rule is enabled but cannot run
// here, says so and where it can.
func localPlan(l *rules.LocalRules, ts []target, assumeLocal bool) (on bool, why string) {
	if !l.Enabled() {
		return false, ""
	}
	var urls []string
	for _, t := range ts {
		if assumeLocal || local.IsLocalServer(t.Client.BaseURL()) {
			return true, ""
		}
		urls = append(urls, t.Client.BaseURL())
	}
	return false, fmt.Sprintf("not carried out: the rules file's local section cleans up transcoders on the Plex server's own computer, and %s is not this computer; "+
		"run plexwarden watch on the server (or add --assume-local if it is this computer, e.g. a container or proxy)", strings.Join(urls, ", "))
}

// moved prints that a server moved to another of its addresses.
func (o *watchOutput) moved(server, from, to, how string) {
	o.write(watchLine{Time: time.Now(), Kind: "connection", Server: server, Event: "moved",
		Detail: fmt.Sprintf("now %s (%s); was %s", to, how, from)})
}

// finding prints a collision or storm.
func (o *watchOutput) finding(f diag.Finding) {
	l := watchLine{Time: f.Time, Kind: string(f.Kind), Server: f.Server, User: f.User, PlayerID: f.PlayerID,
		Event: f.Cause, Detail: f.Summary, Remedy: f.Remedy, Evidence: f.Evidence}
	if f.Kind == diag.KindStorm {
		c := f.Counts
		l.Counts = &c
	}
	o.write(l)
}

// findingRecord is the history record of a collision or storm.
func findingRecord(f diag.Finding) history.Record {
	r := history.Record{Time: f.Time, Kind: "diagnostic", Server: f.Server, User: f.User, Player: f.PlayerID,
		Action: string(f.Kind), Outcome: "detected", Detail: f.Summary}
	if len(f.Evidence) > 0 {
		r.SessionKey, r.SessionID, r.Title = f.Evidence[0].SessionKey, f.Evidence[0].SessionID, f.Evidence[0].Title
	}
	return r
}

func (o *watchOutput) action(r history.Record) {
	o.write(watchLine{Time: r.Time, Kind: "action", Server: r.Server, SessionID: r.SessionID, SessionKey: r.SessionKey,
		User: r.User, Title: r.Title, Player: r.Player, Rule: r.Rule, Action: r.Action, DryRun: r.DryRun,
		Outcome: r.Outcome, Message: r.Message, Detail: r.Detail, LatencyMs: r.LatencyMs})
}

func (o *watchOutput) write(lines ...watchLine) {
	if len(lines) == 0 {
		return
	}
	var b strings.Builder
	for _, l := range lines {
		if o.json {
			j, _ := json.Marshal(l)
			b.Write(j)
			b.WriteByte('\n')
			continue
		}
		b.WriteString(humanLine(l))
		b.WriteByte('\n')
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	_, _ = io.WriteString(o.w, b.String())
}

// humanLine is a line of the plain output, e.g.
// "20:01:02 home  started   alice · Movie (Roku) · Transcode (HEVC 4K→1080p)".
func humanLine(l watchLine) string {
	ts := l.Time.Local().Format("15:04:05")
	switch l.Kind {
	case "connection":
		s := fmt.Sprintf("%s %s  %s", ts, l.Server, l.Event)
		if l.Detail != "" {
			s += ": " + l.Detail
		}
		return s
	case "session":
		s := fmt.Sprintf("%s %s  %-8s  %s · %s (%s) · %s", ts, l.Server, l.Event, l.User, l.Title, l.Player, l.Decision)
		if l.Event == app.Changed.String() && l.State != "" {
			s += " · " + l.State // what changed, most often
		}
		return s
	case "notice":
		return fmt.Sprintf("%s note (%s): %s", ts, l.Event, l.Detail)
	case string(diag.KindCollision), string(diag.KindStorm):
		return fmt.Sprintf("%s %s  %s: %s — %s", ts, l.Server, l.Kind, l.Detail, l.Remedy)
	}
	act := l.Action
	if l.DryRun {
		act += " [dry run]"
	}
	s := fmt.Sprintf("%s %s  rule %q: %s → %s", ts, l.Server, l.Rule, act, l.Outcome)
	if l.LatencyMs > 0 {
		s += " (" + words.Millis(l.LatencyMs) + ")"
	}
	s += " · " + l.User + " · " + l.Title
	if l.Detail != "" {
		s += " · " + l.Detail
	}
	return s
}

func playerText(p app.Player) string {
	switch {
	case p.Title != "" && p.Product != "" && p.Title != p.Product:
		return p.Title + ", " + p.Product
	case p.Product != "":
		return p.Product
	}
	return p.Title
}
