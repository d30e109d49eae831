// Package plextvsim is a simulated plex.tv: a real HTTP server on a
// loopback address that speaks the wire format of the plex.tv endpoints
// Plex Warden uses (docs/plex-api.md §2), for tests of package plextv and
// of `plexwarden login`.
//
// It answers POST /api/v2/pins (201), GET /api/v2/pins/<id> (authToken null
// until the test approves the PIN with Claim or ApproveURL; 404 with error
// code 1020 once it expired), GET /api/v2/user and GET /api/v2/resources
// (401 with plex.tv's JSON error document for an unknown account token).
// The servers it lists are configured with AddServer; their connections
// usually point at plexsim servers.
//
// Every request is logged (method, path, query, headers) so tests can check
// hygiene: the token only in the X-Plex-Token header, one client identifier
// for creating and polling the PIN.
package plextvsim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/plexwarden/plexwarden/plex/internal/simhttp"
)

// Errors of the scenario API.
var (
	// ErrUnknownPIN is returned for a PIN id or code the server never issued.
	ErrUnknownPIN = errors.New("plextvsim: no such PIN")
	// ErrExpired is returned when approving a PIN that has expired.
	ErrExpired = errors.New("plextvsim: PIN expired")
	// ErrWrongClient is returned by ApproveURL when the URL's clientID is
	// not the client identifier that created the PIN: on the real plex.tv
	// the approval would land on another device.
	ErrWrongClient = errors.New("plextvsim: the auth URL's clientID did not create this PIN")
	// ErrBadAuthURL is returned by ApproveURL for a URL the auth app would
	// not understand.
	ErrBadAuthURL = errors.New("plextvsim: malformed auth URL")
	// ErrClosed is returned by Start after Close.
	ErrClosed = simhttp.ErrClosed
	// ErrStarted is returned by a second Start.
	ErrStarted = simhttp.ErrStarted
)

// Options configures a simulated plex.tv. The zero value is usable.
type Options struct {
	// PINLifetime overrides how long a PIN can be approved (plex.tv: 1800 s
	// with strong=true, 900 s without). Tests use a short one to see expiry.
	PINLifetime time.Duration
	// Username is the account's name (default "warden-admin").
	Username string
	// LegacyXML makes /api/v2/resources answer the older XML form
	// (<MediaContainer><Device …><Connection …/></Device>) even when the
	// client asks for JSON.
	LegacyXML bool
	// Clock stamps PINs and requests (default time.Now).
	Clock func() time.Time
}

// ConnSpec is one advertised connection of a server.
type ConnSpec struct {
	URI      string // base URL, e.g. http://127.0.0.1:32400
	Local    bool
	Relay    bool
	Protocol string // default: the URI's scheme
	IPv6     bool
}

// ResourceSpec is one device of the account as /api/v2/resources lists it.
type ResourceSpec struct {
	Name        string
	MachineID   string // clientIdentifier
	Owned       bool
	AccessToken string
	Provides    string // default "server"
	Product     string // default "Plex Media Server"
	SourceTitle string // owner's name for shared servers
	Offline     bool   // presence false
	Connections []ConnSpec
}

// PINInfo is a PIN as the server holds it.
type PINInfo struct {
	ID        int64
	Code      string
	ClientID  string // X-Plex-Client-Identifier that created it
	Product   string // X-Plex-Product that created it
	Strong    bool
	CreatedAt time.Time
	ExpiresAt time.Time
	Expired   bool // past ExpiresAt or expired with Expire
	Claimed   bool // approved; polling by its creator now yields the token
}

// Request is one logged request. Header is a copy and contains the token:
// the log exists so tests can check where the client put it.
type Request = simhttp.Request

type pin struct {
	info  PINInfo
	token string
}

// Server is a simulated plex.tv. All methods are safe for concurrent use.
type Server struct {
	opts Options

	life simhttp.Life // listener: Start, Close

	mu        sync.Mutex // guards everything below
	nextID    int64
	pins      map[int64]*pin
	pinsCh    chan struct{} // closed and replaced when a PIN is created
	tokens    map[string]bool
	resources []ResourceSpec
	requests  simhttp.RequestLog
	failCode  int
	failN     int
}

// New returns a simulated plex.tv that is not listening yet.
func New(opts Options) *Server {
	if opts.Username == "" {
		opts.Username = "warden-admin"
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	s := &Server{
		opts:   opts,
		nextID: 1000,
		pins:   map[int64]*pin{},
		pinsCh: make(chan struct{}),
		tokens: map[string]bool{},
	}
	s.life.Name = "plextvsim"
	return s
}

// Handler returns the HTTP handler, for mounting it elsewhere.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// Start listens on addr (for example "127.0.0.1:0") and serves in the
// background until Close.
func (s *Server) Start(addr string) error { return s.life.Start(addr, s.Handler()) }

// URL returns the base URL, "http://127.0.0.1:port" (use it as
// plextv.Client.BaseURL).
func (s *Server) URL() string { return "http://" + s.life.Addr() }

// Close stops the server and waits for it. It is idempotent.
func (s *Server) Close() error {
	s.life.Close(nil)
	return nil
}

// AddServer adds a device to the account's resources (Provides defaults to
// "server").
func (s *Server) AddServer(spec ResourceSpec) {
	if spec.Provides == "" {
		spec.Provides = "server"
	}
	if spec.Product == "" && spec.Provides == "server" {
		spec.Product = "Plex Media Server"
	}
	spec.Connections = append([]ConnSpec(nil), spec.Connections...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resources = append(s.resources, spec)
}

// AddToken makes token a valid account token without a sign-in.
func (s *Server) AddToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = true
}

// Claim approves PIN id with the account token token, as the user signing
// in does; token becomes a valid account token.
func (s *Server) Claim(id int64, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pins[id]
	if !ok {
		return ErrUnknownPIN
	}
	if s.expiredLocked(p) {
		return ErrExpired
	}
	p.token, p.info.Claimed = token, true
	s.tokens[token] = true
	return nil
}

// ApproveURL does what the user does in the browser: it opens authURL (the
// auth app's https://app.plex.tv/auth#?clientID=…&code=…&context…), and
// approves the PIN with that code — but only if clientID is the client
// identifier that created the PIN and the product is named, as on plex.tv.
func (s *Server) ApproveURL(authURL, token string) error {
	u, err := url.Parse(authURL)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadAuthURL, err)
	}
	if u.Scheme != "https" || u.Host != "app.plex.tv" || u.Path != "/auth" || len(u.Fragment) < 2 || u.Fragment[0] != '?' {
		return fmt.Errorf("%w: want https://app.plex.tv/auth#?…, got %s://%s%s#%.1s…", ErrBadAuthURL, u.Scheme, u.Host, u.Path, u.Fragment)
	}
	q, err := parseFragment(u.EscapedFragment()[1:])
	if err != nil {
		return fmt.Errorf("%w: fragment: %v", ErrBadAuthURL, err)
	}
	code, clientID, product := q["code"], q["clientID"], q["context[device][product]"]
	if code == "" || clientID == "" || product == "" {
		return fmt.Errorf("%w: clientID, code and context[device][product] are required", ErrBadAuthURL)
	}
	s.mu.Lock()
	var id int64
	for pid, p := range s.pins {
		if p.info.Code == code {
			if p.info.ClientID != clientID {
				s.mu.Unlock()
				return ErrWrongClient
			}
			if p.info.Product != product {
				s.mu.Unlock()
				return fmt.Errorf("%w: the page would name the device %q, but it signed in as %q", ErrBadAuthURL, product, p.info.Product)
			}
			id = pid
		}
	}
	s.mu.Unlock()
	if id == 0 {
		return ErrUnknownPIN
	}
	return s.Claim(id, token)
}

// parseFragment reads the auth app's fragment query the way the page does,
// with decodeURIComponent: "%20" is a space but "+" stays a plus.
func parseFragment(raw string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		key, err := url.PathUnescape(k)
		if err != nil {
			return nil, err
		}
		val, err := url.PathUnescape(v)
		if err != nil {
			return nil, err
		}
		out[key] = val
	}
	return out, nil
}

// Expire makes PIN id expire now.
func (s *Server) Expire(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pins[id]
	if !ok {
		return ErrUnknownPIN
	}
	p.info.Expired = true
	return nil
}

// PINs returns every PIN issued so far, oldest first.
func (s *Server) PINs() []PINInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PINInfo, 0, len(s.pins))
	for id := int64(1000); id < s.nextID; id++ {
		if p, ok := s.pins[id]; ok {
			info := p.info
			info.Expired = s.expiredLocked(p)
			out = append(out, info)
		}
	}
	return out
}

// WaitPIN blocks until at least n PINs have been issued and returns the
// n-th (1-based), or ctx's error.
func (s *Server) WaitPIN(ctx context.Context, n int) (PINInfo, error) {
	for {
		s.mu.Lock()
		issued, ch := len(s.pins), s.pinsCh
		s.mu.Unlock()
		if issued >= n {
			return s.PINs()[n-1], nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return PINInfo{}, ctx.Err()
		}
	}
}

// Requests returns the request log, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests.List()
}

// FailNext makes the next n requests answer status with plex.tv's error
// document (code 0), to exercise retries.
func (s *Server) FailNext(status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCode, s.failN = status, n
}

func (s *Server) now() time.Time { return s.opts.Clock() }

func (s *Server) expiredLocked(p *pin) bool {
	return p.info.Expired || !s.now().Before(p.info.ExpiresAt)
}

// newCode returns a random lower-case alphanumeric code of n characters.
func newCode(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
