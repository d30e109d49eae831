package plexsim

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexwarden/plexwarden/plex/internal/simhttp"
)

// Version is the Plex Media Server version the simulator claims.
const Version = "1.41.3.9314-a0bfb8370"

// DefaultPingInterval is how often the event stream sends a "ping" event
// when Options.PingInterval is zero (plexopedia documents 10 s).
const DefaultPingInterval = 10 * time.Second

// Errors returned by the scenario and lifecycle API.
var (
	// ErrUnknownSession is returned for a sessionKey that is not playing.
	ErrUnknownSession = errors.New("plexsim: no such session")
	// ErrNoTranscode is returned when a session has no transcoder job.
	ErrNoTranscode = errors.New("plexsim: session is not transcoding")
	// ErrBadState is returned by SetState for a state other than playing,
	// paused or buffering.
	ErrBadState = errors.New("plexsim: bad player state")
	// ErrClosed is returned once the server has been closed.
	ErrClosed = simhttp.ErrClosed
	// ErrNotStarted is returned by Restart before Start.
	ErrNotStarted = simhttp.ErrNotStarted
	// ErrStarted is returned by a second Start.
	ErrStarted = simhttp.ErrStarted
)

// Options configures a simulated server. The zero value is a usable server
// without Plex Pass that accepts any non-empty token.
type Options struct {
	Token        string           // accepted X-Plex-Token; "" accepts any non-empty token
	MachineID    string           // default "plexsim-<n>", fixed per server
	FriendlyName string           // default "Demo server"
	PlexPass     bool             // false: terminate answers 401 while GET / still answers 200
	PingInterval time.Duration    // default DefaultPingInterval; SSE "ping" events
	Clock        func() time.Time // default time.Now; stamps calls, requests and transcodes
	// Linger is how long a session that stopped or was terminated stays
	// listed in /status/sessions, unchanged, as real Plex keeps it for a
	// few seconds (docs/plex-api.md); 0 means DefaultLinger, a negative
	// value removes it at once.
	Linger time.Duration
}

// DefaultLinger is Options.Linger when zero.
const DefaultLinger = 3 * time.Second

// Call is one terminate or stop-transcode request as the server saw it,
// whatever its outcome (Status says how it was answered).
type Call struct {
	Time         time.Time
	Kind         string // "terminate" or "stop-transcode"
	Method       string // GET, POST or DELETE
	SessionID    string // terminate: the sessionId parameter
	Reason       string // terminate: the reason parameter
	TranscodeKey string // stop-transcode: the bare transcode id
	Status       int    // HTTP status answered
}

// Call kinds.
const (
	CallTerminate     = "terminate"
	CallStopTranscode = "stop-transcode"
)

// Request is one logged HTTP request. Header is a copy and does contain the
// token: the log exists so tests can check where the client put it. Only
// about the newest simhttp.MaxRequests are kept.
type Request = simhttp.Request

// Server is a simulated Plex Media Server. All methods are safe for
// concurrent use.
type Server struct {
	opts    Options
	handler http.Handler

	life simhttp.Life // listener: Start, Restart, Close

	mu       sync.Mutex // guards everything below
	closed   bool
	closedCh chan struct{} // closed by Close
	sessions []*simSession
	leaving  []leavingSession       // stopped, still listed until their time
	catalog  map[string]SessionSpec // by ratingKey: what /library/metadata answers
	jobs     []simJob               // sessionless jobs (jobs.go)
	bgCount  int                    // Background calls
	tempDir  string                 // TranscoderTempDirectory (prefs.go)
	nextKey  int
	nextPQ   int
	rng      *rand.Rand
	calls    []Call
	callsCh  chan struct{} // closed and replaced whenever a call is recorded
	requests simhttp.RequestLog
	streams  map[*stream]struct{}
	onEvent  func(name string, at time.Time)
	failCode int // FailNext status
	failN    int // FailNext count left
	failAll  int // FailAll status, 0 = off
	delay    time.Duration
	stalled  bool
}

var serverCount atomic.Int64

// New returns a server that is not listening yet; call Start, or mount
// Handler yourself.
func New(opts Options) *Server {
	if opts.MachineID == "" {
		opts.MachineID = fmt.Sprintf("plexsim-%d", serverCount.Add(1))
	}
	if opts.FriendlyName == "" {
		opts.FriendlyName = "Demo server"
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Linger == 0 {
		opts.Linger = DefaultLinger
	}
	h := fnv.New64a()
	_, _ = io.WriteString(h, opts.MachineID)
	seed := h.Sum64()
	s := &Server{
		opts:     opts,
		closedCh: make(chan struct{}),
		callsCh:  make(chan struct{}),
		streams:  map[*stream]struct{}{},
		catalog:  map[string]SessionSpec{},
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	s.handler = http.HandlerFunc(s.serve)
	s.life.Name = "plexsim"
	return s
}

// MachineID returns the server's machineIdentifier.
func (s *Server) MachineID() string { return s.opts.MachineID }

// Token returns the configured token ("" when any non-empty token is accepted).
func (s *Server) Token() string { return s.opts.Token }

func (s *Server) now() time.Time { return s.opts.Clock() }

// Handler returns the server's HTTP handler, for mounting it elsewhere (an
// httptest.Server, a recorder). Close still ends its event streams and
// delayed answers, but waiting for those handlers is then the caller's job.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on addr (for example "127.0.0.1:0") and serves in the
// background until Close. It never listens anywhere else.
func (s *Server) Start(addr string) error { return s.life.Start(addr, s.handler) }

// Addr returns the address the server listens on ("127.0.0.1:port"), or ""
// before Start.
func (s *Server) Addr() string { return s.life.Addr() }

// URL returns the base URL, "http://127.0.0.1:port".
func (s *Server) URL() string { return "http://" + s.Addr() }

// Close stops the listener, closes every event stream, waits for running
// handlers and leaves no goroutine behind. It is idempotent.
func (s *Server) Close() error {
	s.life.Close(func() {
		s.mu.Lock()
		s.closed = true
		close(s.closedCh)
		s.mu.Unlock()
		s.closeStreams()
	})
	return nil
}

// Restart simulates a server restart: it closes the listener, every event
// stream and every connection, then listens again on the same address.
// Sessions, calls and the request log are kept.
func (s *Server) Restart() error { return s.life.Restart(s.closeStreams) }

// Calls returns every terminate and stop-transcode call so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// WaitCalls blocks until at least n calls have been recorded and returns
// them, or returns ctx's error (with the calls so far).
func (s *Server) WaitCalls(ctx context.Context, n int) ([]Call, error) {
	for {
		s.mu.Lock()
		if len(s.calls) >= n {
			c := append([]Call(nil), s.calls...)
			s.mu.Unlock()
			return c, nil
		}
		ch := s.callsCh
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return s.Calls(), ctx.Err()
		}
	}
}

func (s *Server) recordCall(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.Time = s.now()
	s.calls = append(s.calls, c)
	close(s.callsCh)
	s.callsCh = make(chan struct{})
}

// Requests returns the request log, oldest first. Only about the newest
// 10 000 requests are kept.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests.List()
}

// Violations returns the logged requests that carried X-Plex-Token in the
// query string. Real Plex accepts that, but Plex Warden must never do it
// (URLs end up in logs).
func (s *Server) Violations() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.TokenInQuery {
			out = append(out, r)
		}
	}
	return out
}

// FailNext makes the next n requests (any endpoint including the event
// stream, except /identity) answer status.
func (s *Server) FailNext(status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCode, s.failN = status, n
}

// FailAll makes every request (except /identity) answer status until
// FailAll(0).
func (s *Server) FailAll(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAll = status
}

// SetDelay delays every answer by d (the event stream delays its headers);
// 0 turns it off. A delayed request is aborted if the server closes.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// takeFailure returns the status an injected fault imposes on this request,
// or 0.
func (s *Server) takeFailure() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAll != 0 {
		return s.failAll
	}
	if s.failN > 0 {
		s.failN--
		return s.failCode
	}
	return 0
}
