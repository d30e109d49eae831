package app

import (
	"context"

	"fmt"
	"sync"
	"time"
)

// Hub runs one Monitor per server concurrently and aggregates their
// snapshots into a State for the window and tray. Servers can be added and
// removed while it runs.
type Hub struct {
	mu       sync.Mutex
	order    []string
	servers  map[string]*hubServer
	onState  []func(*State)
	onUpdate []func(Update)
	wg       sync.WaitGroup
	now      func() time.Time
	pubMu    sync.Mutex // keeps aggregated states in order
}

type hubServer struct {
	mon    *Monitor
	term   Terminator
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{servers: map[string]*hubServer{}, now: time.Now} }

// OnState registers fn to receive the aggregated State after every update
// of any server. It runs on a monitor goroutine and must return quickly
// (the UI's Post does). Register before Start.
func (h *Hub) OnState(fn func(*State)) { h.onState = append(h.onState, fn) }

// OnUpdate registers fn to receive every monitor update (rules,
// notifications, the watch command). Register before Start.
func (h *Hub) OnUpdate(fn func(Update)) { h.onUpdate = append(h.onUpdate, fn) }

// Start runs mon under ctx; term stops its sessions. A server of the same
// name is replaced in place (it keeps its position). Each companion runs
// beside the monitor with the same context (cancelled by Remove) and is
// waited for like it: the connection watcher of a server with several
// addresses is one.
func (h *Hub) Start(ctx context.Context, mon *Monitor, term Terminator, companions ...func(context.Context)) {
	name := mon.Server()
	at := h.remove(name)
	ctx, cancel := context.WithCancel(ctx)
	s := &hubServer{mon: mon, term: term, cancel: cancel, done: make(chan struct{})}
	mon.Subscribe(func(up Update) { h.deliver(up) })
	h.mu.Lock()
	h.servers[name] = s
	if at >= 0 && at <= len(h.order) {
		h.order = append(h.order[:at:at], append([]string{name}, h.order[at:]...)...)
	} else {
		h.order = append(h.order, name)
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	h.wg.Add(1)
	wg.Add(1 + len(companions))
	go func() {
		defer h.wg.Done()
		defer close(s.done)
		wg.Wait()
		// A stopped server leaves no keep-alive connection behind.
		if c, ok := term.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
	}()
	go func() {
		defer wg.Done()
		s.err = mon.Run(ctx)
	}()
	for _, fn := range companions {
		go func() {
			defer wg.Done()
			fn(ctx)
		}()
	}
	h.publishState()
}

// Remove stops and forgets the server name (no-op if unknown) and waits for
// its monitor and companions to end.
func (h *Hub) Remove(name string) { h.remove(name) }

// remove is Remove; it returns the server's position, or -1 if unknown.
func (h *Hub) remove(name string) int {
	at := -1
	h.mu.Lock()
	s, ok := h.servers[name]
	if ok {
		delete(h.servers, name)
		for i, n := range h.order {
			if n == name {
				at = i
				h.order = append(h.order[:i:i], h.order[i+1:]...)
				break
			}
		}
	}
	h.mu.Unlock()
	if ok {
		s.cancel()
		<-s.done
		h.publishState()
	}
	return at
}

// Wait blocks until every monitor has ended (after ctx of Start ended).
func (h *Hub) Wait() { h.wg.Wait() }

// Servers returns the names of the servers, in order.
func (h *Hub) Servers() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.order...)
}

// Monitor returns the monitor of a server, or nil.
func (h *Hub) Monitor(name string) *Monitor {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.servers[name]; ok {
		return s.mon
	}
	return nil
}

// State returns the latest aggregated state.
func (h *Hub) State() *State {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := &State{Time: h.now()}
	for _, n := range h.order {
		st.Servers = append(st.Servers, h.servers[n].mon.Snapshot())
	}
	return st
}

func (h *Hub) deliver(up Update) {
	for _, fn := range h.onUpdate {
		fn(up)
	}
	h.publishState()
}

func (h *Hub) publishState() {
	if len(h.onState) == 0 {
		return
	}
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	st := h.State()
	for _, fn := range h.onState {
		fn(st)
	}
}

// terminator returns the Terminator of a server.
func (h *Hub) terminator(server string) (Terminator, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.servers[server]
	if !ok {
		return nil, fmt.Errorf("unknown server %q", server)
	}
	return s.term, nil
}

// Find returns the live session with key (Session.Key) from the latest snapshots.
func (h *Hub) Find(key string) (Session, bool) {
	for _, sn := range h.State().Servers {
		if s, ok := sn.Find(key); ok {
			return s, true
		}
	}
	return Session{}, false
}

// Terminate stops session s with message on its server and asks its monitor
// to resync so the result shows at once.
func (h *Hub) Terminate(ctx context.Context, s Session, message string) Result {
	t, err := h.terminator(s.Server)
	if err != nil {
		return Result{Outcome: OutcomeFailed, Err: err}
	}
	r := TerminateSession(ctx, t, s, message)
	if m := h.Monitor(s.Server); m != nil && r.Outcome == OutcomeDone {
		m.MarkLeaving(s.Key(), LeavingTerminated)
	}
	h.resync(s.Server)
	return r
}

// StopTranscode kills the transcode of s on its server.
func (h *Hub) StopTranscode(ctx context.Context, s Session) Result {
	t, err := h.terminator(s.Server)
	if err != nil {
		return Result{Outcome: OutcomeFailed, Err: err}
	}
	r := StopSessionTranscode(ctx, t, s)
	h.resync(s.Server)
	return r
}

func (h *Hub) resync(server string) {
	if m := h.Monitor(server); m != nil {
		m.Resync()
	}
}
