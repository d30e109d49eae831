package app

import (
	"context"
	"log/slog"
	"time"

	backoff "gopkg.in/cenkalti/backoff.v1"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plextv"
)

// Defaults of ReprobeOptions.
const (
	// DefaultReprobeAfter is how long the chosen address may fail before
	// the server's other addresses are probed. The feed retries within a
	// second, so a server restart is over before this; a laptop that left
	// the LAN is not.
	DefaultReprobeAfter = 15 * time.Second
	// DefaultReprobeEvery is how often a server reached through a less
	// preferred address (remote, relay) is probed for a better one, so a
	// laptop that comes home goes back to the LAN address.
	DefaultReprobeEvery = 5 * time.Minute
	// DefaultReprobeMaxWait caps the pause between probes while nothing
	// answers.
	DefaultReprobeMaxWait = 2 * time.Minute
)

// ReprobeOptions tunes how a server with several addresses (signed in
// through plex.tv) moves between them. Zero fields take the defaults.
type ReprobeOptions struct {
	After   time.Duration // failing this long: probe (DefaultReprobeAfter)
	Every   time.Duration // on a less preferred address: probe this often (DefaultReprobeEvery)
	MaxWait time.Duration // longest pause between failed probes (DefaultReprobeMaxWait)
	Probe   time.Duration // each address's /identity timeout (plextv.DefaultProbeTimeout)
}

func (o ReprobeOptions) withDefaults() ReprobeOptions {
	if o.After <= 0 {
		o.After = DefaultReprobeAfter
	}
	if o.Every <= 0 {
		o.Every = DefaultReprobeEvery
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultReprobeMaxWait
	}
	return o
}

// AddressWatchConfig configures NewAddressWatch.
type AddressWatchConfig struct {
	Server  ServerConfig // name, machine identifier, addresses, TLS settings
	Client  *plex.Client // moved with SetBaseURL
	Feed    *plex.Feed   // told to Reconnect after a move
	Monitor *Monitor     // shows the new URL; re-reads the sessions
	Options ReprobeOptions
	Info    plex.ClientInfo // X-Plex-* headers of the probes
	Log     *slog.Logger
	// Moved is told of every move, before the monitor shows it: save the
	// new URL, tell the admin. how is the kind of address in words
	// (plextv.Connection.Kind: "local network", "remote, secure", …).
	Moved func(server, from, to, how string)
}

// connWatch keeps one server on its best working address. It watches the
// monitor's connection state; when the current address has failed for
// After, or every Every while a less preferred address is in use, it probes
// every address plex.tv listed (local first, relay last; the right
// machineIdentifier must answer) and moves the client, the event feed and
// the monitor to the winner.
type connWatch struct {
	cfg    AddressWatchConfig
	opts   ReprobeOptions
	res    plextv.Resource // the server as plextv.Probe sees it, from the saved addresses
	best   string          // the most preferred address (Candidates' first), "" if none
	states chan Conn       // the latest connection state; capacity 1, newest wins
}

// NewAddressWatch returns the goroutine body that keeps a server signed in
// through plex.tv on its best working address (run it beside the monitor,
// e.g. as a Hub.Start companion), or nil when there is nothing to choose
// from: fewer than two addresses, or no machine identifier to check
// answers against. Call it before the monitor runs: it subscribes.
func NewAddressWatch(cfg AddressWatchConfig) func(context.Context) {
	sc := cfg.Server
	if len(sc.Connections) < 2 || sc.MachineID == "" || cfg.Client == nil || cfg.Monitor == nil {
		return nil
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	w := &connWatch{cfg: cfg, opts: cfg.Options.withDefaults(), res: resourceOf(sc), states: make(chan Conn, 1)}
	if cands := plextv.Candidates(w.res); len(cands) > 0 {
		w.best = cands[0].URI
	}
	cfg.Monitor.Subscribe(func(up Update) { w.post(up.Snapshot.Conn) })
	return w.run
}

// post hands the newest state to run without blocking the monitor.
func (w *connWatch) post(c Conn) {
	for {
		select {
		case w.states <- c:
			return
		default:
		}
		select {
		case <-w.states: // drop the stale one
		default:
		}
	}
}

// resourceOf describes a server to plextv.Probe from its saved addresses.
func resourceOf(s ServerConfig) plextv.Resource {
	res := plextv.Resource{Name: s.Name, ClientIdentifier: s.MachineID, Owned: true}
	for _, sc := range s.Connections {
		u, err := plex.ParseBaseURL(sc.URI)
		if err != nil {
			continue
		}
		res.Connections = append(res.Connections, plextv.Connection{URI: u.String(), Protocol: u.Scheme,
			Address: u.Hostname(), Local: sc.Local, Relay: sc.Relay})
	}
	return res
}

// preferred reports whether the client is on the most preferred address.
func (w *connWatch) preferred() bool {
	return w.best == "" || w.best == w.cfg.Client.BaseURL()
}

// run watches until ctx ends or the monitor stops for good.
func (w *connWatch) run(ctx context.Context) {
	wait := backoff.NewExponentialBackOff()
	wait.InitialInterval = w.opts.After
	wait.MaxInterval = w.opts.MaxWait
	wait.MaxElapsedTime = 0
	wait.Reset()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	// quiet fires when nothing came from the server for After while the
	// connection looks fine: an open stream to a black-holed address (the
	// route is gone, nothing answers, nothing refuses) only shows as
	// silence, and the feed's watchdog waits 45 s for it. The current
	// address is then probed; if it does not answer, the server moves now.
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	defer quiet.Stop()
	const (
		idle    = iota // on a working address; nothing planned
		failing        // the address fails; the timer is the next probe
		upgrade        // working, but not the preferred address; the timer is the next look
	)
	mode := idle
	for {
		select {
		case <-ctx.Done():
			return
		case st := <-w.states:
			if st.Status == Connected || st.Status == Connecting {
				quiet.Reset(w.opts.After) // news from the server (an event, a ping) or a first attempt
			} else {
				quiet.Stop()
			}
			switch st.Status {
			case Stopped, NoToken:
				return // ended, or no token: nothing is sent anywhere
			case Unauthorized:
				// The server answered; another address would reject the
				// token too. Wait for the feed's own slow retries.
				mode = idle
				timer.Stop()
			case Connected:
				if mode == failing {
					mode = idle
					timer.Stop()
				}
				if mode == idle && !w.preferred() {
					mode = upgrade
					timer.Reset(w.opts.Every)
				}
			case Reconnecting, Unreachable:
				if mode != failing {
					mode = failing
					wait.Reset()
					timer.Reset(w.opts.After)
				}
			}
		case <-quiet.C:
			if err := w.probeCurrent(ctx); err == nil || ctx.Err() != nil {
				quiet.Reset(w.opts.After) // only quiet: the address answers
				continue
			}
			w.cfg.Log.Warn("the server's address stopped answering", "server", w.cfg.Server.Name, "url", w.cfg.Client.BaseURL())
			mode = failing
			wait.Reset()
			moved, err := w.reprobe(ctx)
			switch {
			case ctx.Err() != nil:
				return
			case moved:
				mode = idle
			default:
				if err != nil {
					w.cfg.Log.Warn("no address of the server answers", "server", w.cfg.Server.Name, "err", err)
				}
				timer.Reset(wait.NextBackOff())
			}
		case <-timer.C:
			moved, err := w.reprobe(ctx)
			switch {
			case ctx.Err() != nil:
				return
			case moved:
				mode = idle // the next states say whether to look again
			case mode == failing:
				if err != nil {
					w.cfg.Log.Warn("no address of the server answers", "server", w.cfg.Server.Name, "err", err)
				}
				timer.Reset(wait.NextBackOff())
			default:
				timer.Reset(w.opts.Every)
			}
		}
	}
}

// probeCurrent asks the address in use for /identity (the Probe timeout,
// and the machineIdentifier checked, as for every probe).
func (w *connWatch) probeCurrent(ctx context.Context) error {
	cur := w.cfg.Client.BaseURL()
	res := w.res
	res.Connections = nil
	for _, c := range w.res.Connections {
		if c.URI == cur {
			res.Connections = append(res.Connections, c)
		}
	}
	if len(res.Connections) == 0 {
		return nil // an address plex.tv did not list: nothing to compare against
	}
	hc, err := HTTPClientFor(w.cfg.Server)
	if err != nil {
		return err
	}
	defer hc.CloseIdleConnections()
	_, err = plextv.Probe(ctx, res, plextv.ProbeOptions{Info: w.cfg.Info, HTTPClient: hc, Timeout: w.opts.Probe})
	return err
}

// reprobe probes every address and moves to the best that answers. It
// reports whether it moved.
func (w *connWatch) reprobe(ctx context.Context) (bool, error) {
	hc, err := HTTPClientFor(w.cfg.Server)
	if err != nil {
		return false, err
	}
	defer hc.CloseIdleConnections() // its own transport: leave no connection behind
	best, err := plextv.Probe(ctx, w.res, plextv.ProbeOptions{Info: w.cfg.Info, HTTPClient: hc, Timeout: w.opts.Probe})
	if err != nil {
		return false, err
	}
	from := w.cfg.Client.BaseURL()
	if best.URI == from {
		return false, nil
	}
	if err := w.cfg.Client.SetBaseURL(best.URI); err != nil {
		return false, err
	}
	w.cfg.Log.Info("moved to another address of the server", "server", w.cfg.Server.Name, "from", from, "to", best.URI)
	if w.cfg.Moved != nil {
		w.cfg.Moved(w.cfg.Server.Name, from, best.URI, best.Kind())
	}
	// Last, so whoever sees the new URL in a snapshot finds it saved.
	w.cfg.Monitor.SetURL(best.URI)
	if w.cfg.Feed != nil {
		w.cfg.Feed.Reconnect()
	}
	return true, nil
}
