package plexsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

// streamBuffer is how many events a stream may have queued. A client that
// falls this far behind is disconnected (as a server drops a dead peer), so
// the scenario API never blocks on a slow reader.
const streamBuffer = 256

// writeTimeout bounds each write to a stream; a client that stops reading
// is cut off instead of pinning a handler.
const writeTimeout = 5 * time.Second

// frame is one encoded SSE event.
type frame struct {
	name string
	wire []byte
}

// stream is one open /:/eventsource/notifications connection.
type stream struct {
	filter eventFilter
	ch     chan frame
	quit   chan struct{}
	once   sync.Once
}

func (st *stream) close() { st.once.Do(func() { close(st.quit) }) }

// eventFilter implements the "filters" parameter as Plex documents it:
// omitted means everything but log, empty means everything, "a,b" only
// those, and a leading "-" excludes the whole list ("-a,b": all but a and
// b). Pings are events like any other: a list without "ping" gets none.
type eventFilter struct {
	all     bool
	include map[string]bool
	exclude map[string]bool
}

func parseFilters(q url.Values) eventFilter {
	vals, ok := q["filters"]
	if !ok {
		return eventFilter{all: true, exclude: map[string]bool{"log": true}}
	}
	f := eventFilter{include: map[string]bool{}, exclude: map[string]bool{}}
	for _, v := range vals {
		excludeAll := strings.HasPrefix(strings.TrimSpace(v), "-")
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			switch {
			case name == "" || name == "-":
			case excludeAll || strings.HasPrefix(name, "-"):
				f.exclude[strings.TrimPrefix(name, "-")] = true
			default:
				f.include[name] = true
			}
		}
	}
	f.all = len(f.include) == 0
	return f
}

func (f eventFilter) allows(name string) bool {
	if f.exclude[name] {
		return false
	}
	return f.all || f.include[name]
}

// encodeFrame writes the SSE wire form: "event: <name>\n", one "data: " line
// per line of data, then a blank line.
func encodeFrame(name string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("event: ")
	b.WriteString(name)
	b.WriteByte('\n')
	for _, line := range bytes.Split(data, []byte("\n")) {
		b.WriteString("data: ")
		b.Write(bytes.TrimSuffix(line, []byte("\r")))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}

var pingFrame = encodeFrame(plex.EventPing, []byte("{}"))

// compactJSON marshals v without HTML escaping and without the trailing newline.
func compactJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte("{}")
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// handleEvents serves the SSE stream until the client leaves, the stream is
// dropped, or the server restarts or closes.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	st := &stream{
		filter: parseFilters(r.URL.Query()),
		ch:     make(chan frame, streamBuffer),
		quit:   make(chan struct{}),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	}
	s.streams[st] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.streams, st)
		s.mu.Unlock()
	}()

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}

	ping := time.NewTicker(s.opts.PingInterval)
	defer ping.Stop()
	write := func(name string, wire []byte) bool {
		// The hook runs before the bytes leave, so it has always run by the
		// time the client reacts to the event.
		s.mu.Lock()
		hook := s.onEvent
		s.mu.Unlock()
		if hook != nil {
			hook(name, s.now())
		}
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := w.Write(wire); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-st.quit:
			return
		case <-s.closedCh:
			return
		case fr := <-st.ch:
			if s.isStalled() {
				continue
			}
			if !write(fr.name, fr.wire) {
				return
			}
		case <-ping.C:
			if s.isStalled() || !st.filter.allows(plex.EventPing) {
				continue
			}
			if !write(plex.EventPing, pingFrame) {
				return
			}
		}
	}
}

func (s *Server) isStalled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stalled
}

// broadcastLocked queues one event on every stream whose filter takes it
// (all streams when raw). It never blocks: a stream whose buffer is full is
// closed. While stalled, events are lost, as they would be on a hung link.
func (s *Server) broadcastLocked(name string, data []byte, raw bool) {
	if s.stalled || len(s.streams) == 0 {
		return
	}
	fr := frame{name: name, wire: encodeFrame(name, data)}
	for st := range s.streams {
		if !raw && !st.filter.allows(name) {
			continue
		}
		select {
		case st.ch <- fr:
		default:
			st.close()
			delete(s.streams, st)
		}
	}
}

// emitLocked sends a notification object {"<child>":payload} as event name.
func (s *Server) emitLocked(name, child string, payload any) {
	s.broadcastLocked(name, compactJSON(map[string]any{child: payload}), false)
}

func (s *Server) closeStreams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for st := range s.streams {
		st.close()
		delete(s.streams, st)
	}
}

// DropStreams closes every open event stream; clients see a clean EOF.
func (s *Server) DropStreams() { s.closeStreams() }

// StreamCount returns the number of open event streams.
func (s *Server) StreamCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.streams)
}

// Stall freezes (true) or thaws (false) every stream: while stalled, open
// streams stay open but get no bytes at all, neither pings nor events, and
// events emitted meanwhile are lost, as on a hung connection.
func (s *Server) Stall(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalled = on
}

// SendRaw writes an arbitrary event to every open stream, ignoring their
// filters: malformed JSON, huge payloads, unknown names. Data containing
// newlines is sent as several data: lines, as SSE requires.
func (s *Server) SendRaw(event string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broadcastLocked(event, data, true)
}

// Emit sends an event to the streams whose filters take it, as the server
// does for its own events; use it for kinds the scenario API does not
// produce (activity, log, …). data is sent as is.
func (s *Server) Emit(event string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broadcastLocked(event, data, false)
}

// OnEventSent sets a hook called on a stream's goroutine each time an event
// (pings included) is written to that stream, with the Clock time. It runs
// just before the bytes are written and flushed, so it has always run by the
// time the client can react. For reaction-time measurements; it must not
// block. nil removes it.
func (s *Server) OnEventSent(f func(name string, at time.Time)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onEvent = f
}
