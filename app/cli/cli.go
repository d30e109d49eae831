// Package cli is Plex Warden's command line: sessions, terminate,
// stop-transcode, simulate, version, and the hand-over to the desktop app
// (which main.go supplies, so this package stays free of Fyne).
package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
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
// build without one). In the full binary, `watch` runs in the headless
// build beside it when that is the same version (delegateWatch).
func Run(version string, gui func(ctx context.Context, opts GUIOptions) error) {
	if gui != nil {
		delegateWatch(version, os.Args[1:], os.Getenv) // returns only if it did not
	}
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
