package app

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// holeProxy forwards loopback TCP connections to target until blackHole
// is called; from then on it forwards nothing, either way, on the open
// connections and on new ones (which it accepts and never answers): an
// address whose route is gone, where nothing answers and nothing refuses.
type holeProxy struct {
	ln     net.Listener
	target string
	holed  atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startHoleProxy(t *testing.T, target string) *holeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &holeProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *holeProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *holeProxy) blackHole() { p.holed.Store(true) }

func (p *holeProxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, c)
}

func (p *holeProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.track(c)
		if p.holed.Load() {
			continue // held open, never answered
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.track(up)
		p.wg.Add(2)
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

// pipe copies from src to dst until either closes; once black-holed it
// keeps reading and drops everything.
func (p *holeProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.holed.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !p.holed.Load() {
				dst.Close()
			}
			return
		}
	}
}

func (p *holeProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// A server reached through an address that becomes black-holed (the open
// event stream goes silent, new connections hang) moves to its other
// address about as soon as it would from a refused one: within the
// re-probe delay and a probe, not after the feed's 45 s silence watchdog.
// A server that is only quiet (no pings) but answers stays where it is.
func TestBlackHoledAddressIsLeft(t *testing.T) {
	const machine = "pms-den"
	const after, probe = 300 * time.Millisecond, 300 * time.Millisecond
	tests := []struct {
		name     string
		ping     time.Duration
		hole     bool
		wantMove bool
	}{
		{"black-holed", 100 * time.Millisecond, true, true},
		{"quiet but answering", time.Hour, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := plexsim.Options{Token: simToken, MachineID: machine, PlexPass: true, PingInterval: tt.ping}
			lan := startSim(t, opts)
			remote := startSim(t, opts)
			proxy := startHoleProxy(t, lan.Addr())

			dir := t.TempDir()
			cfg := DefaultConfig()
			cfg.Servers = []ServerConfig{{Name: "Den", URL: proxy.url(), MachineID: machine, Connections: []ServerConnection{
				{URI: proxy.url(), Local: true}, {URI: remote.URL()},
			}}}
			if err := SaveConfig(filepath.Join(dir, "config.json"), cfg); err != nil {
				t.Fatal(err)
			}
			secrets := NewMemoryStore()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			_ = secrets.Set(ctx, machine, simToken)
			ctrl, err := NewController(ControllerOptions{ConfigDir: dir, Secrets: secrets, Getenv: func(string) string { return "" },
				Reprobe: ReprobeOptions{After: after, Every: time.Hour, MaxWait: time.Second, Probe: probe}})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { cancel(); ctrl.Hub().Wait() }()
			if err := ctrl.Start(ctx); err != nil {
				t.Fatal(err)
			}
			mon := ctrl.Hub().Monitor("Den")
			waitUntil(t, "connected through the proxy", 5*time.Second, func() bool {
				s := mon.Snapshot()
				return s.URL == proxy.url() && s.Conn.Status == Connected
			})
			if tt.hole {
				proxy.blackHole()
			}
			start := time.Now()
			if !tt.wantMove {
				time.Sleep(6 * after)
				if got := mon.Snapshot().URL; got != proxy.url() {
					t.Errorf("a quiet server that answers moved to %s", got)
				}
				return
			}
			waitUntil(t, "the move to the other address", 10*time.Second, func() bool {
				s := mon.Snapshot()
				return s.URL == remote.URL() && s.Conn.Status == Connected
			})
			// After of silence, a probe of the current address, a probe of all.
			if took, limit := time.Since(start), after+2*probe+2*time.Second; took > limit {
				t.Errorf("moved after %v, want within %v", took, limit)
			}
		})
	}
}

// Connection set-up is bounded: a TLS handshake or a response that never
// comes fails after ConnSetup's durations, not the system's minutes.
func TestConnSetupBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accepted, never answered
			mu.Unlock()
		}
	}()
	defer func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	saved := ConnSetup
	ConnSetup = ConnTimeouts{Dial: 200 * time.Millisecond, TLSHandshake: 200 * time.Millisecond, ResponseHeader: 200 * time.Millisecond}
	defer func() { ConnSetup = saved }()

	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			hc, err := HTTPClientFor(ServerConfig{Name: "hole", URL: scheme + "://" + ln.Addr().String()})
			if err != nil {
				t.Fatal(err)
			}
			defer hc.CloseIdleConnections()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+ln.Addr().String()+"/identity", nil)
			start := time.Now()
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("a server that never answers answered")
			}
			if took := time.Since(start); took > 2*time.Second || ctx.Err() != nil || !strings.Contains(err.Error(), "timeout") {
				t.Errorf("failed after %v with %v; want a set-up timeout within about 200 ms", took, err)
			}
		})
	}
}
