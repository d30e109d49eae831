package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// DemoServerName is the name of the built-in simulated server.
const DemoServerName = "Demo server"

// ControllerOptions configures a Controller.
type ControllerOptions struct {
	ConfigDir string      // default DefaultConfigDir()
	Secrets   SecretStore // default: OS keyring with in-memory fallback
	Version   string
	Demo      bool // run on the simulator even if servers are configured
	// Getenv reads PLEX_URL / PLEX_TOKEN (default os.Getenv).
	Getenv func(string) string
	Log    *slog.Logger
	// Reprobe tunes how servers signed in through plex.tv move between
	// their addresses.
	Reprobe ReprobeOptions
}

// Controller is the desktop app's domain side: configuration, secrets, the
// hub of monitors, and the actions the window and tray offer. The ui
// package sees it through its Backend interface.
type Controller struct {
	opts     ControllerOptions
	path     string
	clientID string
	hub      *Hub
	log      *slog.Logger

	mu         sync.Mutex
	cfg        Config
	ctx        context.Context
	demoCancel context.CancelFunc // stops the demo simulator; nil when not running
	envOnly    bool               // server from PLEX_URL: not saved
	hooks      Hooks
	thumbs     *ThumbCache // created on first use
}

// Hooks connect the controller to parts app cannot import (the rules
// engine and history live in subpackages that import app).
type Hooks struct {
	// Manual is told about every terminate or stop-transcode the admin asked
	// for (action "terminate" or "stopTranscode"), for the history.
	Manual func(s Session, action, message string, res Result, took time.Duration)
	// RulesPaused switches the automatic rules off or on.
	RulesPaused func(paused bool)
	// Moved is told when a server moved to another of its addresses
	// because the one in use failed or a better one answers again; how
	// says what kind of address it is now ("local network", "remote,
	// secure", "remote", "plex.tv relay, limited bandwidth").
	Moved func(server, from, to, how string)
}

// SetHooks installs h; call before Start.
func (c *Controller) SetHooks(h Hooks) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hooks = h
}

func (c *Controller) manual(s Session, action, message string, res Result, took time.Duration) {
	c.mu.Lock()
	fn := c.hooks.Manual
	c.mu.Unlock()
	if fn != nil {
		fn(s, action, message, res, took)
	}
}

// NewController loads the configuration and client identifier. A broken
// configuration file is an error (*ConfigError) and is left untouched.
func NewController(opts ControllerOptions) (*Controller, error) {
	if opts.ConfigDir == "" {
		d, err := DefaultConfigDir()
		if err != nil {
			return nil, fmt.Errorf("no configuration directory: %w", err)
		}
		opts.ConfigDir = d
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Secrets == nil {
		opts.Secrets = NewFallbackStore(NewKeyring())
	}
	path := filepath.Join(opts.ConfigDir, "config.json")
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, err
	}
	id, err := LoadClientID(opts.ConfigDir)
	if err != nil {
		return nil, err
	}
	return &Controller{opts: opts, path: path, cfg: cfg, clientID: id, hub: NewHub(), log: opts.Log}, nil
}

// ConfigDir returns the directory of config.json, rules.json and history.
func (c *Controller) ConfigDir() string { return c.opts.ConfigDir }

// Hub returns the hub; register OnState/OnUpdate before Start.
func (c *Controller) Hub() *Hub { return c.hub }

// ClientInfo is what we send to Plex about ourselves.
func (c *Controller) ClientInfo() plex.ClientInfo {
	host, _ := os.Hostname()
	return plex.ClientInfo{ID: c.clientID, Product: plex.DefaultProduct, Version: c.opts.Version, DeviceName: host}
}

// Demo reports whether the built-in demo server is running.
func (c *Controller) Demo() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.demoCancel != nil
}

// WillDemo reports whether Start will use the built-in demo server: asked
// for, or no server configured and no PLEX_URL.
func (c *Controller) WillDemo() bool {
	if c.opts.Demo {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cfg.Servers) == 0 && c.opts.Getenv("PLEX_URL") == ""
}

// Start runs a monitor for every configured server; with none configured
// (and no PLEX_URL), it starts the built-in demo server instead.
func (c *Controller) Start(ctx context.Context) error {
	c.mu.Lock()
	c.ctx = ctx
	cfg := c.cfg
	c.mu.Unlock()
	if url := c.opts.Getenv("PLEX_URL"); url != "" && !c.opts.Demo {
		c.envOnly = true
		return c.startServer(ServerConfig{Name: serverNameFromURL(url), URL: url}, c.opts.Getenv("PLEX_TOKEN"))
	}
	if len(cfg.Servers) == 0 || c.opts.Demo {
		return c.startDemo(ctx)
	}
	var errs []error
	for _, s := range cfg.Servers {
		token, err := c.opts.Secrets.Get(ctx, secretKey(s))
		if err != nil {
			token = c.opts.Getenv("PLEX_TOKEN")
			if token == "" {
				errs = append(errs, fmt.Errorf("server %q: no token (%v); sign in again or add it in Settings", s.Name, err))
			}
		}
		if err := c.startServer(s, token); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func serverNameFromURL(raw string) string {
	u, err := plex.ParseBaseURL(raw)
	if err != nil {
		return raw
	}
	return u.Host
}

func secretKey(s ServerConfig) string {
	if s.MachineID != "" {
		return s.MachineID
	}
	return "url:" + s.URL
}

func (c *Controller) startDemo(ctx context.Context) error {
	sim := plexsim.New(plexsim.Options{Token: "demo", FriendlyName: DemoServerName, PlexPass: true})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		return fmt.Errorf("starting the demo server: %w", err)
	}
	demoCtx, cancel := context.WithCancel(ctx)
	go func() {
		plexsim.RunDemo(demoCtx, sim, time.Now().UnixNano())
		_ = sim.Close()
	}()
	c.mu.Lock()
	c.demoCancel = cancel
	c.mu.Unlock()
	return c.startServer(ServerConfig{Name: DemoServerName, URL: sim.URL()}, "demo")
}

// stopDemo removes the demo server once a real one is added.
func (c *Controller) stopDemo() {
	c.mu.Lock()
	cancel := c.demoCancel
	c.demoCancel = nil
	c.mu.Unlock()
	if cancel != nil {
		c.hub.Remove(DemoServerName)
		cancel()
	}
}

// HTTPClientFor returns the HTTP client for a server: normal TLS
// verification, plus the CA file if set, or no verification if Insecure.
// It follows redirects only within the same scheme, host and port
// (plex.CheckRedirect): the token never leaves for another host.
func HTTPClientFor(s ServerConfig) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	ConnSetup.apply(tr)
	if s.Insecure || s.CAFile != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if s.Insecure {
			// Skipping the certificate check is the admin's explicit choice,
			// shown in Settings as "Allow insecure TLS".
			tc.InsecureSkipVerify = true
		}
		if s.CAFile != "" {
			pem, err := os.ReadFile(s.CAFile)
			if err != nil {
				return nil, fmt.Errorf("server %q: reading CA file: %w", s.Name, err)
			}
			pool, _ := x509.SystemCertPool()
			if pool == nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("server %q: CA file %s holds no PEM certificate", s.Name, s.CAFile)
			}
			tc.RootCAs = pool
		}
		tr.TLSClientConfig = tc
	}
	return &http.Client{Transport: tr, CheckRedirect: plex.CheckRedirect}, nil
}

// NewServerClient returns a Plex client for s with token.
func NewServerClient(s ServerConfig, token string, info plex.ClientInfo) (*plex.Client, error) {
	hc, err := HTTPClientFor(s)
	if err != nil {
		return nil, err
	}
	return plex.NewClient(s.URL, token, info, plex.WithHTTPClient(hc))
}

func (c *Controller) startServer(s ServerConfig, token string) error {
	client, err := NewServerClient(s, token, c.ClientInfo())
	if err != nil {
		return err
	}
	c.mu.Lock()
	ctx, reconcile := c.ctx, time.Duration(c.cfg.Reconcile)
	c.mu.Unlock()
	feed := client.NewFeed(nil)
	mon := NewMonitor(MonitorConfig{
		Server: s.Name, URL: client.BaseURL(), Demo: s.Name == DemoServerName && c.Demo(),
		Source: client, Feed: feed, Reconcile: reconcile, Log: c.log, NoToken: token == "",
	})
	if watch := NewAddressWatch(AddressWatchConfig{Server: s, Client: client, Feed: feed, Monitor: mon,
		Options: c.opts.Reprobe, Info: c.ClientInfo(), Log: c.log, Moved: c.moved}); watch != nil {
		c.hub.Start(ctx, mon, client, watch)
		return nil
	}
	c.hub.Start(ctx, mon, client)
	return nil
}

// moved saves a server's new address and passes the news on (Hooks.Moved).
func (c *Controller) moved(server, from, to, how string) {
	if err := c.UpdateConfig(func(cfg *Config) {
		for i := range cfg.Servers {
			if cfg.Servers[i].Name == server {
				cfg.Servers[i].URL = to
			}
		}
	}); err != nil {
		c.log.Warn("saving the server's new address", "server", server, "err", err)
	}
	c.mu.Lock()
	hook := c.hooks.Moved
	c.mu.Unlock()
	if hook != nil {
		hook(server, from, to, how)
	}
}

// Terminate stops a session with message (ui.Backend).
func (c *Controller) Terminate(ctx context.Context, s Session, message string) Result {
	start := time.Now()
	r := c.hub.Terminate(ctx, s, message)
	c.manual(s, "terminate", message, r, time.Since(start))
	return r
}

// StopTranscode kills a session's transcode (ui.Backend).
func (c *Controller) StopTranscode(ctx context.Context, s Session) Result {
	start := time.Now()
	r := c.hub.StopTranscode(ctx, s)
	c.manual(s, "stopTranscode", "", r, time.Since(start))
	return r
}

// SessionResult is the outcome of an action on one session.
type SessionResult struct {
	Session Session
	Result  Result
}

// UserSessions returns the live streams of s's user on every server (s
// itself included), from the latest snapshots, leaving out those on their
// way out: what "Terminate all of carol's streams…" would stop.
func (c *Controller) UserSessions(s Session) []Session {
	var out []Session
	for x := range c.hub.State().All() {
		if x.Leaving == "" && x.SameUser(&s) {
			out = append(out, *x)
		}
	}
	return out
}

// TerminateUser stops every live stream of s's user on every server (the
// window's and tray's "Terminate all of carol's streams…"), each with
// message, or, when message is "", with the default message for its
// player. Each stream is recorded through Hooks.Manual with the action
// "terminateUser". The results are in UserSessions' order.
func (c *Controller) TerminateUser(ctx context.Context, s Session, message string) []SessionResult {
	var out []SessionResult
	for _, x := range c.UserSessions(s) {
		m := message
		if m == "" {
			m = DefaultMessage(x)
		}
		start := time.Now()
		r := c.hub.Terminate(ctx, x, m)
		c.manual(x, "terminateUser", m, r, time.Since(start))
		out = append(out, SessionResult{Session: x, Result: r})
	}
	return out
}

// Thumb returns a session's poster (Session.Thumb on Session.Server),
// from the in-memory cache or fetched through the server's client with
// the token in its header (ui.ThumbBackend).
func (c *Controller) Thumb(ctx context.Context, server, path string) ([]byte, error) {
	c.mu.Lock()
	if c.thumbs == nil {
		c.thumbs = NewThumbCache(DefaultThumbCacheBytes, c.hub.Thumb)
	}
	cache := c.thumbs
	c.mu.Unlock()
	return cache.Get(ctx, server, path)
}

// DefaultMessage is the terminate message prefilled for s (ui.Backend).
func (c *Controller) DefaultMessage(s Session) string { return DefaultMessage(s) }

// Config returns a copy of the configuration (ui.Backend).
func (c *Controller) Config() Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg.Clone()
}

// Secrets is the store of tokens and alert channel secrets (the OS
// keyring, with an in-memory fallback).
func (c *Controller) Secrets() SecretStore { return c.opts.Secrets }

// UpdateConfig changes and saves the configuration; on a save error the
// change is not kept (ui.Backend).
func (c *Controller) UpdateConfig(fn func(*Config)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg := c.cfg.Clone()
	fn(&cfg)
	if err := SaveConfig(c.path, cfg); err != nil {
		return fmt.Errorf("saving settings to %s: %w", c.path, err)
	}
	c.cfg = cfg
	return nil
}

// NewServer is a server the admin adds by hand (or sign-in found).
type NewServer struct {
	URL   string
	Token string // the server owner's X-Plex-Token; kept in the keyring only
	// Insecure skips TLS verification (a visible warning in the window).
	Insecure bool
	// CAFile is a PEM file of extra certificate authorities to trust, for a
	// server behind a private CA; plex.direct addresses need none.
	CAFile string
	// Connections are every address plex.tv knows for the server (sign-in
	// only); the monitor moves to another when the chosen one fails.
	Connections []ServerConnection
}

// AddServer checks the server at ns.URL with ns.Token (GET /), stores the
// token in the keyring under the server's machine identifier, saves the
// server and starts monitoring it. The demo server stops once a real one is
// added. If the keyring is unavailable the server still runs for this
// session, and the returned error (wrapping ErrKeyringUnavailable) says so.
func (c *Controller) AddServer(ctx context.Context, ns NewServer) (string, error) {
	token := ns.Token
	if token == "" {
		return "", errors.New("enter the server's token (X-Plex-Token)")
	}
	sc := ServerConfig{URL: strings.TrimSpace(ns.URL), Insecure: ns.Insecure, CAFile: strings.TrimSpace(ns.CAFile), Connections: ns.Connections}
	client, err := NewServerClient(sc, token, c.ClientInfo())
	if err != nil {
		return "", err
	}
	sc.URL = client.BaseURL()
	defer client.CloseIdleConnections() // only for this check; the monitor gets its own
	info, err := client.ServerInfo(ctx)
	if err != nil {
		if errors.Is(err, plex.ErrUnauthorized) {
			return "", fmt.Errorf("the server at %s rejected this token", sc.URL)
		}
		if errors.Is(err, plex.ErrUntrustedCert) {
			return "", fmt.Errorf("the certificate of the server at %s is not trusted: %v", sc.URL, errText(err))
		}
		return "", fmt.Errorf("cannot reach a Plex server at %s: %v", sc.URL, errText(err))
	}
	sc.MachineID = string(info.MachineIdentifier)
	sc.Name = info.FriendlyName
	if sc.Name == "" {
		sc.Name = client.BaseURL()
	}
	cfg := c.Config()
	for i, s := range cfg.Servers {
		if s.Name == sc.Name && s.MachineID != sc.MachineID {
			sc.Name = fmt.Sprintf("%s (%d)", sc.Name, i+2)
		}
	}
	keyErr := c.opts.Secrets.Set(ctx, secretKey(sc), token)
	if keyErr != nil && !errors.Is(keyErr, ErrKeyringUnavailable) {
		return "", fmt.Errorf("storing the token: %w", keyErr)
	}
	if err := c.UpdateConfig(func(cfg *Config) {
		kept := cfg.Servers[:0]
		for _, s := range cfg.Servers {
			if s.MachineID != sc.MachineID || sc.MachineID == "" && s.URL != sc.URL {
				kept = append(kept, s)
			}
		}
		cfg.Servers = append(kept, sc)
	}); err != nil {
		return "", err
	}
	c.stopDemo()
	if err := c.startServer(sc, token); err != nil {
		return sc.Name, err
	}
	if keyErr != nil {
		return sc.Name, fmt.Errorf("%w. %s", keyErr, KeyringHelp)
	}
	return sc.Name, nil
}

// RemoveServer stops monitoring name, forgets it and deletes its token.
func (c *Controller) RemoveServer(name string) error {
	var removed *ServerConfig
	err := c.UpdateConfig(func(cfg *Config) {
		kept := cfg.Servers[:0]
		for _, s := range cfg.Servers {
			if s.Name == name {
				s := s
				removed = &s
				continue
			}
			kept = append(kept, s)
		}
		cfg.Servers = kept
	})
	if err != nil {
		return err
	}
	c.hub.Remove(name)
	if removed != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.opts.Secrets.Delete(ctx, secretKey(*removed)); err != nil {
			return fmt.Errorf("server removed, but its token could not be deleted from the keyring: %w", err)
		}
	}
	return nil
}

// SignOut stops watching every configured server and deletes their tokens
// from the keyring. The servers stay in the configuration, so signing in
// again (or adding the token again) resumes them; until then a start
// reports them as having no token. It returns how many servers it signed
// out of. When the keyring cannot be used the servers are still stopped
// and their in-memory tokens dropped, and the error says the stored ones
// could not be removed.
func (c *Controller) SignOut(ctx context.Context) (int, error) {
	var errs []error
	servers := c.Config().Servers
	for _, s := range servers {
		c.hub.Remove(s.Name)
		if err := c.opts.Secrets.Delete(ctx, secretKey(s)); err != nil {
			errs = append(errs, fmt.Errorf("%q: %w", s.Name, err))
		}
	}
	// FallbackStore reports an unavailable keyring as a successful Delete
	// (of its in-memory copy); ask it before claiming anything was removed.
	if u, ok := c.opts.Secrets.(interface{ Unavailable() error }); ok && len(servers) > 0 {
		if err := u.Unavailable(); err != nil {
			return len(servers), fmt.Errorf("stopped watching the servers, but the system keyring cannot be used (%w), so their stored tokens were not removed. %s", err, KeyringHelp)
		}
	}
	if len(errs) > 0 {
		return len(servers), fmt.Errorf("some tokens could not be removed from the keyring: %w", errors.Join(errs...))
	}
	return len(servers), nil
}

// SetRulesPaused switches all automatic rules off or on, and saves it.
func (c *Controller) SetRulesPaused(paused bool) {
	c.mu.Lock()
	fn := c.hooks.RulesPaused
	c.mu.Unlock()
	if fn != nil {
		fn(paused)
	}
	if err := c.UpdateConfig(func(cfg *Config) { cfg.RulesPaused = paused }); err != nil {
		c.log.Error("saving the rules switch", "err", err)
		c.mu.Lock()
		c.cfg.RulesPaused = paused // keep it for this run at least
		c.mu.Unlock()
	}
}

// RulesPaused reports whether automatic rules are paused.
func (c *Controller) RulesPaused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg.RulesPaused
}
