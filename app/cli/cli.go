// Package cli is Plex Warden's command line: sessions, terminate,
// stop-transcode, simulate, version, and the hand-over to the desktop app
// (which main.go supplies, so this package stays free of Fyne).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
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
}

const usage = `Plex Warden watches your Plex Media Servers and stops the streams you don't want.

Usage:
  plexwarden                      start the desktop app (tray + window)
  plexwarden demo                 start the desktop app on the built-in demo server
  plexwarden sessions [--json]    list live sessions
  plexwarden terminate SESSION_ID [--message TEXT]
                                  stop a session, showing TEXT on the player
  plexwarden stop-transcode KEY   kill a session's transcode (playback breaks, no message)
  plexwarden simulate [--addr 127.0.0.1:32400]
                                  run the simulated Plex server alone
  plexwarden version              print the version

Server and token: --server URL (or PLEX_URL) and PLEX_TOKEN.
Run "plexwarden COMMAND --help" for a command's options.
`

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	args := env.Args
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
	case "simulate":
		err = cmdSimulate(ctx, env, rest)
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
	}
	fmt.Fprintf(env.Stderr, "plexwarden: %s\n", Explain(err))
	return 1
}

var errUsage = errors.New("usage")

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

// serverFlag adds --server and returns a function building the client.
func serverFlag(env Env, fs *flag.FlagSet) func() (*plex.Client, error) {
	server := fs.String("server", "", "Plex server URL, e.g. http://127.0.0.1:32400 (default $PLEX_URL)")
	return func() (*plex.Client, error) {
		url := *server
		if url == "" {
			url = env.Getenv("PLEX_URL")
		}
		if url == "" {
			return nil, errors.New("no server given: use --server URL or set PLEX_URL (e.g. PLEX_URL=http://127.0.0.1:32400)")
		}
		token := env.Getenv("PLEX_TOKEN")
		if token == "" {
			return nil, errors.New("no token: set PLEX_TOKEN to the server owner's X-Plex-Token")
		}
		info := plex.ClientInfo{Product: plex.DefaultProduct, Version: env.Version}
		if dir, err := app.DefaultConfigDir(); err == nil {
			if id, err := app.LoadClientID(dir); err == nil {
				info.ID = id
			}
		}
		return plex.NewClient(url, token, info)
	}
}

func cmdSessions(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "sessions", "[--json] [--server URL]", "List the sessions playing now, with how each is delivered.")
	asJSON := fs.Bool("json", false, "print a JSON array (fields documented in the README)")
	client := serverFlag(env, fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fmt.Fprintf(env.Stderr, "plexwarden sessions: unexpected argument %q\n", pos[0])
		return errUsage
	}
	c, err := client()
	if err != nil {
		return err
	}
	items, err := c.Sessions(ctx)
	if err != nil {
		return fmt.Errorf("cannot list sessions: %w", err)
	}
	name := serverName(c)
	now := time.Now()
	sessions := make([]app.Session, 0, len(items))
	for i := range items {
		s := app.NewSession(name, &items[i], now)
		if s.Kind == plex.KindTheme {
			continue
		}
		sessions = append(sessions, s)
	}
	sort.SliceStable(sessions, func(i, j int) bool { return sessions[i].User < sessions[j].User })
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sessions)
	}
	printSessions(env.Stdout, sessions)
	return nil
}

func serverName(c *plex.Client) string {
	u, err := plex.ParseBaseURL(c.BaseURL())
	if err != nil {
		return c.BaseURL()
	}
	return u.Host
}

func printSessions(w io.Writer, sessions []app.Session) {
	if len(sessions) == 0 {
		fmt.Fprintln(w, "Nothing is playing.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tTITLE\tPLAYER\tSTATE\tDECISION\tBANDWIDTH\tWHERE")
	for _, s := range sessions {
		where := "remote"
		if s.Player.Local {
			where = "LAN"
		}
		if s.Player.Address != "" {
			where += " " + s.Player.Address
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
	fs := newFlagSet(env, "terminate", "SESSION_ID [--message TEXT] [--server URL]",
		"Stop a session. SESSION_ID is the id column of 'plexwarden sessions' (Plex's Session id, not the sessionKey).\nNeeds the owner's token and Plex Pass.")
	msg := fs.String("message", "The server owner has ended this stream.", "text the player shows")
	client := serverFlag(env, fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	c, err := client()
	if err != nil {
		return err
	}
	if err := c.Terminate(ctx, pos[0], *msg); err != nil {
		if errors.Is(err, plex.ErrNotFound) {
			return fmt.Errorf("no session with id %q on %s (already ended? ids come from 'plexwarden sessions')", pos[0], c.BaseURL())
		}
		return fmt.Errorf("cannot terminate: %w", err)
	}
	fmt.Fprintf(env.Stdout, "Terminated session %s.\n", pos[0])
	return nil
}

func cmdStopTranscode(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "stop-transcode", "KEY [--server URL]",
		"Kill a transcode. KEY is the transcodeKey of 'plexwarden sessions --json'. Playback breaks without a message.")
	client := serverFlag(env, fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	c, err := client()
	if err != nil {
		return err
	}
	if err := c.StopTranscode(ctx, pos[0]); err != nil {
		if errors.Is(err, plex.ErrNotFound) {
			return fmt.Errorf("no transcode with key %q on %s (already ended?)", pos[0], c.BaseURL())
		}
		return fmt.Errorf("cannot stop the transcode: %w", err)
	}
	fmt.Fprintf(env.Stdout, "Stopped transcode %s.\n", plex.TranscodeID(pos[0]))
	return nil
}

func cmdSimulate(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "simulate", "[--addr HOST:PORT] [--token TOKEN] [--seed N] [--quiet]",
		"Run the simulated Plex Media Server with a lively demo scenario, so you can try Plex Warden without a Plex server.\nThen, in another terminal: PLEX_URL=http://127.0.0.1:32400 PLEX_TOKEN=x plexwarden sessions")
	addr := fs.String("addr", "127.0.0.1:32400", "listen address")
	token := fs.String("token", "", "accepted token (default: any non-empty token)")
	seed := fs.Int64("seed", 1, "scenario seed")
	noPass := fs.Bool("no-plex-pass", false, "behave like a server without Plex Pass (terminate answers 401)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	sim := plexsim.New(plexsim.Options{Token: *token, FriendlyName: "Plex Warden simulator", PlexPass: !*noPass})
	if err := sim.Start(*addr); err != nil {
		return fmt.Errorf("cannot listen on %s: %w", *addr, err)
	}
	defer sim.Close()
	fmt.Fprintf(env.Stdout, "Simulated Plex server on %s (Ctrl-C to stop).\nTry: PLEX_URL=%s PLEX_TOKEN=x plexwarden sessions\n", sim.URL(), sim.URL())
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
	case errors.Is(err, plex.ErrPlexPassRequired):
		return err.Error()
	case errors.Is(err, plex.ErrUnreachable):
		return err.Error() + " — check the address and that Plex Media Server is running"
	case errors.Is(err, plex.ErrTimeout):
		return err.Error() + " — the server is too slow or the address is wrong"
	}
	return err.Error()
}
