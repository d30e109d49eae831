// Package cli is Plex Warden's command line: sessions, terminate,
// stop-transcode, simulate, version, and the hand-over to the desktop app
// (which main.go supplies, so this package stays free of Fyne).
package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// GUIOptions is what the desktop app needs from the command line.
type GUIOptions struct {
	Demo bool // plexwarden demo: always the simulator
}

// Env is the process environment the CLI runs in; tests supply their own.
type Env struct {
	Args    []string // without the program name
	Stdout  io.Writer
	Stderr  io.Writer
	Getenv  func(string) string
	Version string
	// GUI starts the desktop app; nil when built without one.
	GUI func(ctx context.Context, opts GUIOptions) error
	// Secrets holds server tokens; nil means the OS keyring.
	Secrets app.SecretStore
	// Reprobe tunes how watch moves a server between its addresses (zero:
	// the defaults; tests shorten it).
	Reprobe app.ReprobeOptions
	// TokenRetryMin and TokenRetryMax bound watch's pause between tries of
	// a token the server rejected while running (zero: 1 min and 15 min;
	// tests shorten them).
	TokenRetryMin, TokenRetryMax time.Duration
}

const usage = `Plex Warden watches your Plex Media Servers and stops the streams you don't want.

Usage:
  plexwarden                      start the desktop app (tray + window); without a display,
                                  watch the demo server in the terminal (watch --demo)
  plexwarden demo                 start the desktop app on the built-in demo server
  plexwarden login [--no-browser] [--token-file FILE]
                                  sign in with Plex in the browser, add the servers you own
                                  (their tokens go to the system keyring, or to FILE)
  plexwarden logout [--token-file FILE]
                                  delete the configured servers' tokens from the keyring (or FILE)
  plexwarden sessions [--json]    list live sessions
  plexwarden terminate SESSION_ID [--message TEXT]
                                  stop a session, showing TEXT on the player
  plexwarden stop-transcode KEY   kill a session's transcode (playback breaks, no message)
  plexwarden local [--json]       list the transcoder processes on this computer
  plexwarden kill-local PID [--force-after 5s]
                                  stop a local transcoder process (SIGTERM, then SIGKILL)
  plexwarden watch [--config FILE] [--dry-run] [--json]
                                  apply the automatic rules without the desktop app
  plexwarden watch --demo         the same on the built-in demo server with example rules
  plexwarden simulate [--addr 127.0.0.1:32400]
                                  run the simulated Plex server alone
  plexwarden version              print the version

Server and token: --server URL (or PLEX_URL) and PLEX_TOKEN. For a server whose
certificate is not publicly trusted: --ca-file FILE (or PLEX_CA_FILE), or --insecure.
Without a keyring (a server): login --token-file FILE, then --token-file FILE or PLEX_TOKEN_FILE=FILE
(a systemd service: LoadCredential=plexwarden-tokens:FILE).
Exit codes: 0 done, 1 failed, 2 usage error, 3 sessions listed only some servers.
Run "plexwarden COMMAND --help" for a command's options.
`

// Run is the whole of a main function: it runs the command line on the
// process's arguments and standard streams until it ends, Ctrl-C or
// SIGTERM, then exits with its code. gui starts the desktop app (nil in a
// build without one).
func Run(version string, gui func(ctx context.Context, opts GUIOptions) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, Env{Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr, Version: version, GUI: gui})
	stop()
	os.Exit(code)
}

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	args := env.Args
	if len(args) == 0 && env.GUI != nil && noDisplay(runtime.GOOS, env.Getenv) {
		// The desktop app could only open on an invisible display: show
		// the product working in the terminal instead.
		fmt.Fprintln(env.Stderr, noDisplayText)
		args = []string{"watch", "--demo"}
	}
	if len(args) == 0 {
		return runGUI(ctx, env, GUIOptions{})
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "-h", "--help", "help":
		fmt.Fprint(env.Stdout, usage)
		return 0
	case "version", "--version":
		fmt.Fprintf(env.Stdout, "plexwarden %s\n", env.Version)
		return 0
	case "demo":
		if code, done := parseOnly(env, "demo", "Start the desktop app on the built-in simulated server.", rest); done {
			return code
		}
		return runGUI(ctx, env, GUIOptions{Demo: true})
	case "sessions":
		err = cmdSessions(ctx, env, rest)
	case "terminate":
		err = cmdTerminate(ctx, env, rest)
	case "stop-transcode":
		err = cmdStopTranscode(ctx, env, rest)
	case "local":
		err = cmdLocal(ctx, env, rest)
	case "kill-local":
		err = cmdKillLocal(ctx, env, rest)
	case "watch":
		err = cmdWatch(ctx, env, rest)
	case "simulate":
		err = cmdSimulate(ctx, env, rest)
	case "login":
		err = cmdLogin(ctx, env, rest)
	case "logout":
		err = cmdLogout(ctx, env, rest)
	default:
		fmt.Fprintf(env.Stderr, "plexwarden: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errPartial):
		fmt.Fprintf(env.Stderr, "plexwarden: %s\n", err)
		return ExitPartial
	}
	fmt.Fprintf(env.Stderr, "plexwarden: %s\n", Explain(err))
	return 1
}

var errUsage = errors.New("usage")

// noDisplayText is the one line plexwarden says before watching the demo
// server in the terminal on a machine without a display.
const noDisplayText = "No display (DISPLAY and WAYLAND_DISPLAY are unset), so no window: watching the built-in demo server here instead " +
	"(plexwarden watch --demo; for your own server: plexwarden watch). Ctrl-C to stop."

// noDisplay reports whether the desktop app has no display to open on: on
// X11/Wayland systems, neither DISPLAY nor WAYLAND_DISPLAY is set (macOS
// and Windows always have one).
func noDisplay(goos string, getenv func(string) string) bool {
	switch goos {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly":
		return getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == ""
	}
	return false
}

func runGUI(ctx context.Context, env Env, opts GUIOptions) int {
	if env.GUI == nil {
		fmt.Fprintln(env.Stderr, "plexwarden: this build has no desktop app; see plexwarden --help")
		return 1
	}
	if err := env.GUI(ctx, opts); err != nil {
		fmt.Fprintf(env.Stderr, "plexwarden: %s\n", Explain(err))
		return 1
	}
	return 0
}

func parseOnly(env Env, name, doc string, args []string) (int, bool) {
	fs := newFlagSet(env, name, "", doc)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, true
		}
		return 2, true
	}
	return 0, false
}

func newFlagSet(env Env, name, args, doc string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: plexwarden %s %s\n\n%s\n", name, args, doc)
		if hasFlags(fs) {
			fmt.Fprintln(env.Stderr, "\nOptions:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parse parses flags placed before or after the positional arguments.
// parseNone is parse for a command that takes no positional argument: one
// is a usage error, named on stderr.
func parseNone(env Env, fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fmt.Fprintf(env.Stderr, "plexwarden %s: unexpected argument %q\n", fs.Name(), pos[0])
		return errUsage
	}
	return nil
}

func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// target is one server a command acts on.
type target struct {
	Name   string
	Client *plex.Client     // nil when NoToken is set
	Config app.ServerConfig // a configured server's settings (addresses for re-probing); zero for --server URL
	// NoToken says why a configured server has no token; the commands
	// skip it and go on with the others.
	NoToken error
}

// targetsFlag adds --server NAME|URL. A URL (or PLEX_URL) names one server,
// with PLEX_TOKEN (or the keyring token of the configured server at that
// address); a name picks a configured server; nothing means every
// configured server, each with its token from the keyring (or the token
// file: tokenFileFlag). A configured server without a token is a target
// with NoToken set.
func targetsFlag(env Env, fs *flag.FlagSet) func() ([]target, error) {
	tokens := tokenFileFlag(env, fs)
	server := fs.String("server", "", "server name (as configured) or URL, e.g. http://127.0.0.1:32400 (default $PLEX_URL, else every configured server)")
	caFile := fs.String("ca-file", "", "PEM file of the certificate authority that signed the server's certificate (default $PLEX_CA_FILE)")
	insecure := fs.Bool("insecure", false, "do not verify the server's TLS certificate (anyone on the network path could read the token)")
	return func() ([]target, error) {
		ca := *caFile
		if ca == "" {
			ca = env.Getenv("PLEX_CA_FILE")
		}
		// tls applies the command line's TLS choices over a server's own.
		tls := func(s app.ServerConfig) app.ServerConfig {
			if ca != "" {
				s.CAFile = ca
			}
			if *insecure {
				s.Insecure = true
			}
			return s
		}
		info := plex.ClientInfo{Product: plex.DefaultProduct, Version: env.Version}
		dir, dirErr := app.DefaultConfigDir()
		if dirErr == nil {
			if id, err := app.LoadClientID(dir); err == nil {
				info.ID = id
			}
		}
		sel := *server
		if sel == "" {
			sel = env.Getenv("PLEX_URL")
		}
		var cfg app.Config
		if dirErr == nil {
			c, err := app.LoadConfig(filepath.Join(dir, "config.json"))
			if err != nil && (sel == "" || !looksLikeURL(sel)) {
				return nil, err
			}
			cfg = c
		}
		envToken := env.Getenv("PLEX_TOKEN")
		src := tokenSource{store: secretsOf(env), where: "the system keyring"}
		if envToken == "" || len(cfg.Servers) > 0 {
			s, err := tokens()
			if err != nil {
				return nil, err
			}
			src = s
		}
		byName := false
		for _, s := range cfg.Servers {
			byName = byName || s.Name == sel
		}
		if sel != "" && !byName && (looksLikeURL(sel) || len(cfg.Servers) == 0) {
			token := envToken
			u, err := plex.ParseBaseURL(sel)
			if err != nil {
				return nil, err
			}
			for _, s := range cfg.Servers {
				if pu, err := plex.ParseBaseURL(s.URL); err == nil && pu.String() == u.String() && token == "" {
					token, _ = src.store.Get(context.Background(), serverKey(s))
				}
			}
			if token == "" {
				return nil, errors.New("no token: set PLEX_TOKEN to the server owner's X-Plex-Token (or run plexwarden login)")
			}
			c, err := app.NewServerClient(tls(app.ServerConfig{Name: u.Host, URL: sel}), token, info)
			if err != nil {
				return nil, err
			}
			return []target{{Name: u.Host, Client: c}}, nil
		}
		var out []target
		for _, s := range cfg.Servers {
			if sel != "" && s.Name != sel {
				continue
			}
			token, err := src.store.Get(context.Background(), serverKey(s))
			if err != nil {
				if envToken == "" {
					out = append(out, target{Name: s.Name, Config: s, NoToken: &noTokenError{server: s.Name, where: src.where, err: err}})
					continue
				}
				token = envToken
			}
			s = tls(s)
			c, err := app.NewServerClient(s, token, info)
			if err != nil {
				return nil, err
			}
			out = append(out, target{Name: s.Name, Client: c, Config: s})
		}
		switch {
		case len(out) > 0:
			return out, nil
		case sel != "":
			return nil, fmt.Errorf("no configured server is named %q (give a URL, or see plexwarden login)", sel)
		}
		return nil, errors.New("no server given: use --server URL or set PLEX_URL (e.g. PLEX_URL=http://127.0.0.1:32400), or run plexwarden login")
	}
}

// looksLikeURL tells a server address from a configured server's name.
func looksLikeURL(s string) bool {
	return strings.Contains(s, "://") || strings.Contains(s, ":")
}

// serverKey is the keyring entry of a configured server (as the desktop
// app stores it).
func serverKey(s app.ServerConfig) string {
	if s.MachineID != "" {
		return s.MachineID
	}
	return "url:" + s.URL
}

// secretsOf returns the environment's secret store: the OS keyring unless
// a test supplied one.
func secretsOf(env Env) app.SecretStore {
	if env.Secrets != nil {
		return env.Secrets
	}
	return app.NewKeyring()
}

func cmdSessions(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "sessions", "[--json] [--server NAME|URL]", "List the sessions playing now, with how each is delivered.")
	asJSON := fs.Bool("json", false, "print a JSON array (fields documented in the README)")
	targets := targetsFlag(env, fs)
	if err := parseNone(env, fs, args); err != nil {
		return err
	}
	ts, err := targets()
	if err != nil {
		return err
	}
	now := time.Now()
	sessions := []app.Session{}
	var errs []error
	var failed []string // the server of each error
	for _, t := range ts {
		if t.NoToken != nil {
			errs, failed = append(errs, t.NoToken), append(failed, t.Name)
			continue
		}
		items, err := t.Client.Sessions(ctx)
		if err != nil {
			errs, failed = append(errs, fmt.Errorf("cannot list sessions of %s: %w", t.Name, err)), append(failed, t.Name)
			continue
		}
		// The source of transcoding sessions is in the library, not in
		// the list (which describes the transcoder's output).
		srcs := app.NewSources(t.Client, nil).For(ctx, items)
		for i := range items {
			var src *plex.Media
			if i < len(srcs) {
				src = srcs[i]
			}
			s := app.NewSessionSource(t.Name, &items[i], src, now)
			if s.Kind == plex.KindTheme {
				continue
			}
			sessions = append(sessions, s)
		}
	}
	if len(errs) == len(ts) && !*asJSON {
		return errors.Join(errs...)
	}
	for i, e := range errs { // some servers answered: list them, warn about the rest
		reportProblem(env, *asJSON, failed[i], e)
	}
	if len(errs) == len(ts) {
		return fmt.Errorf("no server could be listed")
	}
	sort.SliceStable(sessions, func(i, j int) bool {
		if sessions[i].Server != sessions[j].Server {
			return sessions[i].Server < sessions[j].Server
		}
		return sessions[i].User < sessions[j].User
	})
	var partial error
	if len(errs) > 0 {
		partial = &partialError{failed: len(errs), total: len(ts)}
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sessions); err != nil {
			return err
		}
		return partial
	}
	printSessions(env.Stdout, sessions)
	return partial
}

func printSessions(w io.Writer, sessions []app.Session) {
	if len(sessions) == 0 {
		fmt.Fprintln(w, "Nothing is playing.")
		return
	}
	servers := map[string]bool{}
	for _, s := range sessions {
		servers[s.Server] = true
	}
	many := len(servers) > 1
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "ID\tUSER\tTITLE\tPLAYER\tSTATE\tDECISION\tBANDWIDTH\tWHERE"
	if many {
		header = "SERVER\t" + header
	}
	fmt.Fprintln(tw, header)
	for _, s := range sessions {
		where := "remote"
		if s.Player.Local {
			where = "LAN"
		}
		if s.Player.Address != "" {
			where += " " + s.Player.Address
		}
		if many {
			fmt.Fprintf(tw, "%s\t", s.Server)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(s.ID), s.User, s.Title,
			strings.TrimSpace(s.Player.Product+" "+s.Player.Platform), s.State, s.Reason, kbps(s.BandwidthKbps), where)
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func kbps(k int64) string {
	if k <= 0 {
		return "-"
	}
	if k >= 1000 {
		return fmt.Sprintf("%.1f Mbps", float64(k)/1000)
	}
	return fmt.Sprintf("%d kbps", k)
}

func cmdTerminate(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "terminate", "SESSION_ID [--message TEXT] [--server NAME|URL]",
		"Stop a session. SESSION_ID is the id column of 'plexwarden sessions' (Plex's Session id, not the sessionKey).\nNeeds the owner's token and Plex Pass.")
	msg := fs.String("message", "The server owner has ended this stream.", "text the player shows")
	targets := targetsFlag(env, fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	ts, err := targets()
	if err != nil {
		return err
	}
	return onEach(ts, func(t target) error { return t.Client.Terminate(ctx, pos[0], *msg) },
		func(t target) { fmt.Fprintf(env.Stdout, "Terminated session %s on %s.\n", pos[0], t.Name) },
		fmt.Sprintf("no session with id %q (already ended? ids come from 'plexwarden sessions')", pos[0]), "cannot terminate")
}

// onEach runs do on each target until one succeeds: a session or transcode
// lives on one server, the others answer 404. notFound is the error when
// every server said 404.
func onEach(ts []target, do func(target) error, ok func(target), notFound, failed string) error {
	var errs []error
	for _, t := range ts {
		if t.NoToken != nil {
			errs = append(errs, t.NoToken)
			continue
		}
		err := do(t)
		if err == nil {
			ok(t)
			return nil
		}
		if !errors.Is(err, plex.ErrNotFound) {
			errs = append(errs, fmt.Errorf("%s on %s: %w", failed, t.Name, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if len(ts) == 1 {
		return fmt.Errorf("%s on %s", notFound, ts[0].Client.BaseURL())
	}
	return errors.New(notFound)
}

func cmdStopTranscode(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "stop-transcode", "KEY [--server NAME|URL]",
		"Kill a transcode. KEY is the transcodeKey of 'plexwarden sessions --json'. Playback breaks without a message.")
	targets := targetsFlag(env, fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	ts, err := targets()
	if err != nil {
		return err
	}
	return onEach(ts, func(t target) error { return t.Client.StopTranscode(ctx, pos[0]) },
		func(t target) {
			fmt.Fprintf(env.Stdout, "Stopped transcode %s on %s.\n", plex.TranscodeID(pos[0]), t.Name)
		},
		fmt.Sprintf("no transcode with key %q (already ended?)", pos[0]), "cannot stop the transcode")
}

func cmdSimulate(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "simulate", "[--addr HOST:PORT] [--name NAME] [--token TOKEN] [--seed N] [--no-plex-pass] [--still]",
		"Run the simulated Plex Media Server with a lively demo scenario, so you can try Plex Warden without a Plex server.\nThen, in another terminal: PLEX_URL=http://127.0.0.1:32400 PLEX_TOKEN=x plexwarden sessions")
	addr := fs.String("addr", "127.0.0.1:32400", "listen address")
	token := fs.String("token", "", "accepted token (default: any non-empty token)")
	seed := fs.Int64("seed", 1, "scenario seed")
	noPass := fs.Bool("no-plex-pass", false, "behave like a server without Plex Pass (terminate answers 401)")
	name := fs.String("name", "Plex Warden simulator", "the server's friendly name")
	still := fs.Bool("still", false, "serve the demo's opening sessions and never change them (for comparing outputs)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	// Each address is its own server: two simulators side by side must not
	// share a machineIdentifier (Plex Warden keys servers and tokens by it).
	sum := sha256.Sum256([]byte(*addr))
	sim := plexsim.New(plexsim.Options{Token: *token, FriendlyName: *name, PlexPass: !*noPass,
		MachineID: "plexsim-" + hex.EncodeToString(sum[:6])})
	if *still { // every session is there before the first request
		for _, spec := range plexsim.DemoCast() {
			sim.AddSession(spec)
		}
	}
	if err := sim.Start(*addr); err != nil {
		return fmt.Errorf("cannot listen on %s: %w", *addr, err)
	}
	defer sim.Close()
	fmt.Fprintf(env.Stdout, "Simulated Plex server on %s (Ctrl-C to stop).\nTry: PLEX_URL=%s PLEX_TOKEN=x plexwarden sessions\n", sim.URL(), sim.URL())
	if *still {
		<-ctx.Done()
		return nil
	}
	plexsim.RunDemo(ctx, sim, *seed)
	return nil
}

// Explain turns an error into a sentence for the terminal: a rejected
// token, a refused connection and a bad address each get their remedy.
func Explain(err error) string {
	var ce *app.ConfigError
	switch {
	case errors.As(err, &ce):
		return err.Error()
	case errors.Is(err, plex.ErrUnauthorized):
		return err.Error() + " — the token was rejected; check PLEX_TOKEN (it must be the server owner's token)"
	case errors.Is(err, plex.ErrPlexPassRequired), errors.Is(err, plex.ErrUntrustedCert):
		return err.Error() // the remedy is in the text
	case errors.Is(err, plex.ErrUnreachable):
		return err.Error() + " — check the address and that Plex Media Server is running"
	case errors.Is(err, plex.ErrTimeout):
		return err.Error() + " — the server is too slow or the address is wrong"
	}
	return err.Error()
}

// serverName names a server given by URL: its host:port.
func serverName(c *plex.Client) string {
	u, err := plex.ParseBaseURL(c.BaseURL())
	if err != nil {
		return c.BaseURL()
	}
	return u.Host
}
