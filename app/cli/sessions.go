// The one-shot commands on sessions: sessions, terminate, stop-transcode.

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
)

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
	arg, ts, err := oneArg(fs, targetsFlag(env, fs), args)
	if err != nil {
		return err
	}
	return onEach(ts, func(t target) error { return t.Client.Terminate(ctx, arg, *msg) },
		func(t target) { fmt.Fprintf(env.Stdout, "Terminated session %s on %s.\n", arg, t.Name) },
		fmt.Sprintf("no session with id %q (already ended? ids come from 'plexwarden sessions')", arg), "cannot terminate")
}

// oneArg parses the flags and the one argument of a command acting on one
// session or transcode, then resolves the servers to try.
func oneArg(fs *flag.FlagSet, targets func() ([]target, error), args []string) (string, []target, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return "", nil, err
	}
	if len(pos) != 1 {
		fs.Usage()
		return "", nil, errUsage
	}
	ts, err := targets()
	return pos[0], ts, err
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
	arg, ts, err := oneArg(fs, targetsFlag(env, fs), args)
	if err != nil {
		return err
	}
	return onEach(ts, func(t target) error { return t.Client.StopTranscode(ctx, arg) },
		func(t target) {
			fmt.Fprintf(env.Stdout, "Stopped transcode %s on %s.\n", plex.TranscodeID(arg), t.Name)
		},
		fmt.Sprintf("no transcode with key %q (already ended?)", arg), "cannot stop the transcode")
}
