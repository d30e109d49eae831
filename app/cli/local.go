package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/local"
	"github.com/plexwarden/plexwarden/plex"
)

// matcherFlags adds --plex-names and --ffmpeg-names and returns a function
// building the Matcher from them.
func matcherFlags(fs *flag.FlagSet) func() local.Matcher {
	plexNames := fs.String("plex-names", strings.Join(local.DefaultPlexNames, ","),
		"comma-separated name patterns of Plex's transcoder (globs, case-insensitive, .exe optional)")
	ffNames := fs.String("ffmpeg-names", strings.Join(local.DefaultFFmpegNames, ","),
		`comma-separated name patterns of other transcoders, e.g. "ffmpeg,ffmpeg-*" ("" for none)`)
	return func() local.Matcher {
		return local.Matcher{Plex: local.ParseNames(*plexNames), FFmpeg: local.ParseNames(*ffNames)}
	}
}

func cmdLocal(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "local", "[--json] [--server URL] [--sample 1s]",
		"List the transcoder processes running on this computer (Plex Transcoder, ffmpeg): CPU, memory,\n"+
			"uptime, output activity, and the Plex session each belongs to.\n\n"+
			"With PLEX_URL (or --server) and PLEX_TOKEN set and the server on this computer, each transcoder is\n"+
			"linked to its session through /status/sessions and /transcode/sessions: \"orphan\" means Plex no longer\n"+
			"has its session, and Plex transcodes without a process are listed as stale. Otherwise only the\n"+
			"transcode keys are shown. Background jobs (thumbnails, credits detection, loudness analysis) are\n"+
			"labelled as such.")
	asJSON := fs.Bool("json", false, "print the scan as JSON (pids, owners, cpuPercent, rssBytes, output, link, session, stale)")
	server := fs.String("server", "", "Plex server URL (default $PLEX_URL)")
	sample := fs.Duration("sample", time.Second, "how long to measure CPU use")
	assumeLocal := fs.Bool("assume-local", false, "link even when the server address does not look like this computer (containers, proxies)")
	matcher := matcherFlags(fs)
	if err := parseNone(env, fs, args); err != nil {
		return err
	}
	if *sample < local.MinInterval {
		*sample = local.MinInterval
	}

	opts := local.Options{Matcher: matcher()}
	url := *server
	if url == "" {
		url = env.Getenv("PLEX_URL")
	}
	token := env.Getenv("PLEX_TOKEN")
	switch {
	case url == "":
		note(env, *asJSON, "Showing transcode keys only: set PLEX_URL and PLEX_TOKEN to link transcoders to Plex sessions.")
	case token == "":
		note(env, *asJSON, "Showing transcode keys only: PLEX_TOKEN is not set.")
	case !*assumeLocal && !local.IsLocalServer(url):
		note(env, *asJSON, fmt.Sprintf("Showing transcode keys only: %s is not on this computer, so its transcoders are not among these processes (use --assume-local if it is).", url))
	default:
		c, err := localClient(env, url, token)
		if err != nil {
			return err
		}
		opts.Live = local.ClientSource{API: c, Server: serverName(c)}
	}

	scan, err := local.NewScanner(opts).Sample(ctx, *sample)
	if err != nil {
		return err
	}
	if scan.Plex.Err != "" {
		fmt.Fprintf(env.Stderr, "plexwarden: could not ask Plex, showing keys only: %s\n", scan.Plex.Err)
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(scan)
	}
	printLocal(env.Stdout, scan)
	return nil
}

// localClient builds the client the way the other commands do.
func localClient(env Env, url, token string) (*plex.Client, error) {
	info := plex.ClientInfo{Product: plex.DefaultProduct, Version: env.Version}
	if dir, err := app.DefaultConfigDir(); err == nil {
		if id, err := app.LoadClientID(dir); err == nil {
			info.ID = id
		}
	}
	return plex.NewClient(url, token, info)
}

// note prints a hint to stderr (never into --json output).
func note(env Env, quiet bool, s string) {
	if !quiet {
		fmt.Fprintln(env.Stderr, s)
	}
}

func printLocal(w io.Writer, scan *local.Scan) {
	now := scan.Time
	if scan.Count() == 0 {
		fmt.Fprintln(w, "No transcoders are running on this computer.")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PID\tOWNER\tNAME\tLINK\tCPU\tRSS\tUPTIME\tOUTPUT\tSESSION / KEY")
		for i := range scan.Transcoders {
			t := &scan.Transcoders[i]
			link := t.LinkLabel(now)
			if t.Link == local.LinkOrphan {
				link = "orphan" // one-shot: how long it has been one is not known
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.PID, orDash(t.Owner), t.Name, link,
				t.FormatCPU(), local.FormatBytes(int64(t.RSS)), local.FormatUptime(t.Uptime), t.Output.Activity(now), sessionOrKey(t))
		}
		tw.Flush()
		fmt.Fprintf(w, "\n%s\n", scan.Summary())
	}
	if len(scan.Stale) > 0 {
		fmt.Fprintln(w, "\nPlex transcodes without a process on this computer (stale):")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tSESSION\tSINCE")
		for _, s := range scan.Stale {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Key, orDash(s.Session.Who()), s.Since.Format("15:04:05"))
		}
		tw.Flush()
	}
}

func sessionOrKey(t *local.Transcoder) string {
	who := t.Session.Who()
	switch {
	case who != "" && t.Key != "":
		return who + " (key " + t.Key + ")"
	case t.Key != "":
		return "key " + t.Key
	}
	return "-"
}

func cmdKillLocal(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "kill-local", "PID [--force-after 5s]",
		"Stop a transcoder process on this computer: SIGTERM, then SIGKILL if it is still running after\n"+
			"--force-after (Windows: TerminateProcess at once). Only transcoders (see 'plexwarden local') are\n"+
			"stopped: a process needs more than the name (a transcode key or Plex session folder, a program\n"+
			"under a Plex install or Plex Media Server as parent; for ffmpeg an input) and any other is refused\n"+
			"with the reason. With PLEX_URL and PLEX_TOKEN set, a transcoder of a live session is refused too:\n"+
			"'plexwarden stop-transcode KEY' ends it the way Plex copes with (or add --force).")
	forceAfter := fs.Duration("force-after", local.DefaultForceAfter, "how long to wait after SIGTERM before SIGKILL")
	force := fs.Bool("force", false, "signal it even when it serves a live Plex session (stop-transcode is the clean way)")
	assumeLocal := fs.Bool("assume-local", false, "ask the server of PLEX_URL about the process even when its address does not look like this computer")
	matcher := matcherFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	pid, err := strconv.ParseInt(pos[0], 10, 32)
	if err != nil || pid <= 0 {
		fmt.Fprintf(env.Stderr, "plexwarden kill-local: %q is not a process id (a positive number from 'plexwarden local')\n", pos[0])
		return errUsage
	}
	if *forceAfter <= 0 {
		fmt.Fprintln(env.Stderr, "plexwarden kill-local: --force-after must be positive")
		return errUsage
	}
	if !*force {
		if err := refuseLive(ctx, env, int32(pid), matcher(), *assumeLocal); err != nil {
			return err
		}
	}
	res, err := local.Kill(ctx, local.ProcID{PID: int32(pid)}, local.KillOptions{ForceAfter: *forceAfter, Matcher: matcher()})
	var pe *local.PermissionError
	switch {
	case err == nil:
		fmt.Fprintln(env.Stdout, res.Text())
		return nil
	case errors.Is(err, local.ErrNotTranscoder):
		return err
	case errors.Is(err, local.ErrNoProcess):
		return fmt.Errorf("no transcoder with PID %d is running (already exited? PIDs come from 'plexwarden local')", pid)
	case errors.As(err, &pe):
		return fmt.Errorf("%w\n%s", err, pe.Retry(fmt.Sprintf("plexwarden kill-local %d", pid)))
	}
	return fmt.Errorf("cannot stop PID %d: %w", pid, err)
}

// refuseLive returns an error pointing to stop-transcode when PID is the
// transcoder of a live playback session of the server of PLEX_URL (on this
// computer, or assumed so). Without a server to ask it returns nil: the
// kill's own checks still apply.
func refuseLive(ctx context.Context, env Env, pid int32, m local.Matcher, assumeLocal bool) error {
	url, token := env.Getenv("PLEX_URL"), env.Getenv("PLEX_TOKEN")
	if url == "" || token == "" || (!assumeLocal && !local.IsLocalServer(url)) {
		return nil
	}
	c, err := localClient(env, url, token)
	if err != nil {
		return nil
	}
	defer c.HTTPClient().CloseIdleConnections()
	scan, err := local.NewScanner(local.Options{Matcher: m, Live: local.ClientSource{API: c, Server: serverName(c)}}).Scan(ctx)
	if err != nil {
		return nil
	}
	t := scan.Find(pid)
	if t == nil || t.Link != local.LinkLinked || t.Session == nil || t.Session.SessionKey == "" {
		return nil
	}
	return fmt.Errorf("PID %d is the transcoder of a live session (%s): ask Plex to stop it instead, which Plex copes with "+
		"(a signalled transcoder may just be restarted):\n  plexwarden stop-transcode %s\nor add --force to signal it anyway", pid, t.Session.Who(), t.Key)
}
