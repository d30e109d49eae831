// Package simhttp is the start/stop lifecycle both simulators share
// (plexsim, the simulated Plex Media Server, and plextvsim, the simulated
// plex.tv): listen on one address, serve in the background, restart on the
// same address, and stop leaving no goroutine behind.
package simhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Errors of Life; a simulator wraps them with its name.
var (
	// ErrClosed is returned once the server has been closed.
	ErrClosed = errors.New("server closed")
	// ErrNotStarted is returned by Restart before Start.
	ErrNotStarted = errors.New("server not started")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("server already started")
)

// Life runs one simulator's listener. Its zero value is ready; Name prefixes
// its errors. All methods are safe for concurrent use.
type Life struct {
	Name string // "plexsim", "plextvsim"

	lifeMu sync.Mutex // serialises Start, Restart and Close

	mu      sync.Mutex // guards the fields below and generation.stopped
	addr    string
	closed  bool
	handler http.Handler
	gen     *generation
}

// generation is one listener and its http.Server; Restart replaces it.
type generation struct {
	srv       *http.Server
	cancel    context.CancelFunc // cancels every request context of this generation
	serveDone chan struct{}
	wg        sync.WaitGroup // running handlers; Add only while !stopped (under Life.mu)
	stopped   bool
}

func (l *Life) err(e error) error { return fmt.Errorf("%s: %w", l.Name, e) }

// Start listens on addr (for example "127.0.0.1:0") and serves h in the
// background until Close. It never listens anywhere else.
func (l *Life) Start(addr string, h http.Handler) error {
	if addr == "" {
		return l.err(errors.New("no listen address"))
	}
	l.lifeMu.Lock()
	defer l.lifeMu.Unlock()
	l.mu.Lock()
	closed, started := l.closed, l.addr != ""
	l.mu.Unlock()
	switch {
	case closed:
		return l.err(ErrClosed)
	case started:
		return l.err(ErrStarted)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return l.err(err)
	}
	l.mu.Lock()
	l.addr, l.handler = ln.Addr().String(), h
	l.startGenLocked(ln)
	l.mu.Unlock()
	return nil
}

// Addr returns the address listened on ("127.0.0.1:port"), or "" before
// Start.
func (l *Life) Addr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addr
}

func (l *Life) startGenLocked(ln net.Listener) {
	ctx, cancel := context.WithCancel(context.Background())
	g := &generation{cancel: cancel, serveDone: make(chan struct{})}
	g.srv = &http.Server{
		Handler:           l.genHandler(g),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	l.gen = g
	go func() {
		defer close(g.serveDone)
		_ = g.srv.Serve(ln)
	}()
}

// genHandler counts the handlers of one generation so stopping it can wait
// for them.
func (l *Life) genHandler(g *generation) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		if g.stopped {
			l.mu.Unlock()
			w.Header().Set("Connection", "close")
			http.Error(w, "server restarting", http.StatusServiceUnavailable)
			return
		}
		g.wg.Add(1)
		h := l.handler
		l.mu.Unlock()
		defer g.wg.Done()
		h.ServeHTTP(w, r)
	})
}

// stopGen stops one generation: no new handlers, request contexts
// cancelled (streams and delayed answers end), listener and connections
// closed, then waits for the serve goroutine and every handler.
func (l *Life) stopGen(g *generation) {
	if g == nil {
		return
	}
	l.mu.Lock()
	g.stopped = true
	l.mu.Unlock()
	g.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if err := g.srv.Shutdown(ctx); err != nil {
		// A handler stuck writing to a client that does not read: cut it.
		_ = g.srv.Close()
	}
	cancel()
	<-g.serveDone
	g.wg.Wait()
}

// Close stops the listener, runs beforeStop (nil for none: the simulator
// ends its own streams there), waits for running handlers and leaves no
// goroutine behind. It reports whether this call closed the server; later
// calls do nothing.
func (l *Life) Close(beforeStop func()) bool {
	l.lifeMu.Lock()
	defer l.lifeMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false
	}
	l.closed = true
	g := l.gen
	l.gen = nil
	l.mu.Unlock()
	if beforeStop != nil {
		beforeStop()
	}
	l.stopGen(g)
	return true
}

// Restart closes the listener and every connection, running beforeStop
// first, then listens again on the same address.
func (l *Life) Restart(beforeStop func()) error {
	l.lifeMu.Lock()
	defer l.lifeMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return l.err(ErrClosed)
	}
	g, addr := l.gen, l.addr
	l.gen = nil
	l.mu.Unlock()
	if g == nil {
		return l.err(ErrNotStarted)
	}
	if beforeStop != nil {
		beforeStop()
	}
	l.stopGen(g)
	ln, err := listenRetry(addr)
	if err != nil {
		return l.err(fmt.Errorf("restart: %w", err))
	}
	l.mu.Lock()
	l.startGenLocked(ln)
	l.mu.Unlock()
	return nil
}

// listenRetry listens on addr again; the port was just released, so a
// short retry covers a slow kernel.
func listenRetry(addr string) (net.Listener, error) {
	var err error
	for i := 0; i < 40; i++ {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, err
}
