package plextv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

// DefaultProbeTimeout bounds each connection's /identity probe when
// ProbeOptions.Timeout is zero. A LAN or plex.direct address answers in
// milliseconds; one that has not answered in 3 s is not worth waiting for.
const DefaultProbeTimeout = 3 * time.Second

// ProbeOptions configures Probe.
type ProbeOptions struct {
	// Info is sent in the X-Plex-* headers of each probe. /identity needs
	// no token and none is sent.
	Info plex.ClientInfo
	// HTTPClient sends the probes; nil means a plain http.Client.
	HTTPClient *http.Client
	// Timeout bounds each connection's probe; zero means DefaultProbeTimeout.
	Timeout time.Duration
}

// ProbeResult is how one connection answered.
type ProbeResult struct {
	Connection Connection
	Err        error         // nil: the right server answered
	Latency    time.Duration // time to the answer (or the failure)
}

// Reason says in a few words how the connection answered: "ok", or the
// failure without repeating the address.
func (r ProbeResult) Reason() string {
	var pe *plex.Error
	switch {
	case r.Err == nil:
		return "ok"
	case errors.As(r.Err, &pe):
		if pe.Detail != "" {
			return fmt.Sprintf("%v: %s", pe.Err, pe.Detail)
		}
		return pe.Err.Error()
	}
	return r.Err.Error()
}

// ProbeError reports that no connection of a server answered as that
// server. It unwraps to plex.ErrUnreachable and to every connection's
// error, so errors.Is(err, ErrWrongServer) tells when a different server
// answered somewhere.
type ProbeError struct {
	Server  string        // the resource's name
	Results []ProbeResult // one per connection tried, in preference order
}

// Error lists each connection with its failure.
func (e *ProbeError) Error() string {
	if len(e.Results) == 0 {
		return fmt.Sprintf("%s: %v: plex.tv lists no connection Plex Warden can use", e.Server, plex.ErrUnreachable)
	}
	parts := make([]string, len(e.Results))
	for i, r := range e.Results {
		parts[i] = r.Connection.URI + ": " + r.Reason()
	}
	return fmt.Sprintf("%s: %v: none of its %d connections answered (%s)", e.Server, plex.ErrUnreachable, len(e.Results), strings.Join(parts, "; "))
}

// Unwrap returns plex.ErrUnreachable and each connection's error.
func (e *ProbeError) Unwrap() []error {
	errs := []error{plex.ErrUnreachable}
	for _, r := range e.Results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return errs
}

// preference orders connections, lowest first: local, then HTTPS
// plex.direct, then other remote addresses, and the plex.tv relay last
// (bandwidth-limited; only when nothing else answers). Within a tier HTTPS
// comes before HTTP. python-plexapi's MyPlexResource.connect orders the
// same way.
func preference(c Connection) int {
	tier := 2
	switch {
	case c.Relay:
		tier = 3
	case c.Local:
		tier = 0
	case c.PlexDirect():
		tier = 1
	}
	rank := tier * 2
	if !isHTTPS(c) {
		rank++
	}
	return rank
}

func isHTTPS(c Connection) bool { return strings.HasPrefix(strings.ToLower(c.URI), "https:") }

// Candidates returns the connections Probe tries for res, most preferred
// first (plex.tv's order breaks ties). Local connections of a server the
// account does not own are left out, as python-plexapi does: its LAN is not
// ours, and a LAN address there may well be a different machine here. Plain
// HTTP ones are left out when the server requires secure connections: it
// would answer /identity there and refuse everything else.
func Candidates(res Resource) []Connection {
	var out []Connection
	for _, c := range res.Connections {
		if c.Local && !res.Owned || res.HTTPSRequired && !isHTTPS(c) {
			continue
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return preference(out[i]) < preference(out[j]) })
	return out
}

// Probe asks every candidate connection of res for /identity in parallel
// and returns the most preferred one that answered with res's
// machineIdentifier (see Candidates for the order). It returns as soon as
// no better connection can still answer, without waiting for slower,
// less preferred ones. When none answers, the error is a *ProbeError.
func Probe(ctx context.Context, res Resource, opts ProbeOptions) (Connection, error) {
	results, best := probe(ctx, res, opts, true)
	if best < 0 {
		if err := ctx.Err(); err != nil {
			return Connection{}, err
		}
		return Connection{}, &ProbeError{Server: res.Name, Results: results}
	}
	return results[best].Connection, nil
}

// ProbeAll probes every candidate connection of res in parallel, waits for
// all of them and returns their results in preference order, for showing
// the user what answered and what did not.
func ProbeAll(ctx context.Context, res Resource, opts ProbeOptions) []ProbeResult {
	results, _ := probe(ctx, res, opts, false)
	return results
}

// probe runs the probes. With early set it stops (cancelling the rest) once
// the best answer is certain. It returns the results in candidate order and
// the index of the best success, or -1. Every probe goroutine has returned
// when it returns.
func probe(ctx context.Context, res Resource, opts ProbeOptions, early bool) ([]ProbeResult, int) {
	cands := Candidates(res)
	results := make([]ProbeResult, len(cands))
	if len(cands) == 0 {
		return results, -1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		i int
		r ProbeResult
	}
	ch := make(chan answer, len(cands)) // buffered: no sender ever blocks
	for i, c := range cands {
		go func() { ch <- answer{i, probeOne(ctx, res, c, opts)} }()
	}
	finished := make([]bool, len(cands))
	best := -1
	for pending := len(cands); pending > 0; pending-- {
		a := <-ch
		results[a.i], finished[a.i] = a.r, true
		if best >= 0 {
			continue // already decided; draining the cancelled probes
		}
		if b := decided(results, finished); b >= 0 && early {
			best = b
			cancel()
		}
	}
	if best < 0 {
		best = firstSuccess(results)
	}
	return results, best
}

// decided returns the index of the best success if every more preferred
// candidate has finished, else -1.
func decided(results []ProbeResult, finished []bool) int {
	for i := range results {
		if !finished[i] {
			return -1
		}
		if results[i].Err == nil {
			return i
		}
	}
	return -1
}

func firstSuccess(results []ProbeResult) int {
	for i, r := range results {
		if r.Err == nil {
			return i
		}
	}
	return -1
}

// probeOne asks one connection for /identity and checks the answer is res.
func probeOne(ctx context.Context, res Resource, c Connection, opts ProbeOptions) ProbeResult {
	start := time.Now()
	r := ProbeResult{Connection: c}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	copts := []plex.Option{plex.WithTimeout(timeout)}
	if opts.HTTPClient != nil {
		copts = append(copts, plex.WithHTTPClient(opts.HTTPClient))
	}
	client, err := plex.NewClient(c.URI, "", opts.Info, copts...)
	if err != nil {
		r.Err = err
		return r
	}
	id, err := client.Identity(ctx)
	r.Latency = time.Since(start)
	switch {
	case err != nil:
		r.Err = err
	case res.ClientIdentifier != "" && string(id.MachineIdentifier) != res.ClientIdentifier:
		r.Err = fmt.Errorf("%w (machineIdentifier %q, expected %q)", ErrWrongServer, id.MachineIdentifier, res.ClientIdentifier)
	}
	return r
}

// ServerProbe is the outcome of probing one server.
type ServerProbe struct {
	Resource   Resource
	Connection Connection // the chosen connection when Err is nil
	Err        error      // a *ProbeError (or ctx's error) when nothing answered
}

// ProbeServers probes every server in parallel (each with Probe) and returns
// the outcomes in the order of servers.
func ProbeServers(ctx context.Context, servers []Resource, opts ProbeOptions) []ServerProbe {
	out := make([]ServerProbe, len(servers))
	var wg sync.WaitGroup
	for i, res := range servers {
		out[i].Resource = res
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].Connection, out[i].Err = Probe(ctx, res, opts)
		}()
	}
	wg.Wait()
	return out
}
