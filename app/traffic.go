package app

import (
	"sync"
	"time"
)

// TrafficSample is one server's load at one moment: bandwidth to players
// on the local network and elsewhere, and how many streams and
// transcodes there were.
type TrafficSample struct {
	Time       time.Time
	LANKbps    int64
	WANKbps    int64
	Streams    int
	Transcodes int
}

// Kbps is the total bandwidth.
func (s TrafficSample) Kbps() int64 { return s.LANKbps + s.WANKbps }

// SampleOf sums a snapshot's sessions at time t. Sessions on their way out
// (Session.Leaving) no longer count.
func SampleOf(sn *Snapshot, t time.Time) TrafficSample {
	out := TrafficSample{Time: t}
	for s := range sn.All() {
		if s.Leaving != "" {
			continue
		}
		out.Streams++
		if s.Transcoding() {
			out.Transcodes++
		}
		if s.IsLAN() {
			out.LANKbps += s.BandwidthKbps
		} else {
			out.WANKbps += s.BandwidthKbps
		}
	}
	return out
}

// Traffic keeps each server's samples over a window (an hour for the Now
// Playing graph), one per step, in a ring buffer of window/step slots:
// memory stays fixed however long the app runs. Within one step the peak
// of each figure is kept, so a short burst still shows. It is safe for
// concurrent use.
type Traffic struct {
	window, step time.Duration

	mu      sync.Mutex
	servers map[string]*trafficRing
}

type trafficRing struct {
	buf  []TrafficSample
	next int // slot the next new step takes
	n    int // slots in use
}

// NewTraffic returns an empty Traffic keeping window at one sample per step.
func NewTraffic(window, step time.Duration) *Traffic {
	if step <= 0 {
		step = time.Second
	}
	if window < step {
		window = step
	}
	return &Traffic{window: window, step: step, servers: map[string]*trafficRing{}}
}

// Window returns how far back samples are kept.
func (t *Traffic) Window() time.Duration { return t.window }

// Add records s for server. A sample in the same step as the server's
// latest merges into it (peaks kept, the later time); one older than the
// latest is ignored.
func (t *Traffic) Add(server string, s TrafficSample) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.servers[server]
	if r == nil {
		r = &trafficRing{buf: make([]TrafficSample, int(t.window/t.step))}
		t.servers[server] = r
	}
	if r.n > 0 {
		last := &r.buf[(r.next-1+len(r.buf))%len(r.buf)]
		switch {
		case s.Time.Before(last.Time):
			return
		case s.Time.Truncate(t.step).Equal(last.Time.Truncate(t.step)):
			last.Time = s.Time
			last.LANKbps = max(last.LANKbps, s.LANKbps)
			last.WANKbps = max(last.WANKbps, s.WANKbps)
			last.Streams = max(last.Streams, s.Streams)
			last.Transcodes = max(last.Transcodes, s.Transcodes)
			return
		}
	}
	r.buf[r.next] = s
	r.next = (r.next + 1) % len(r.buf)
	r.n = min(r.n+1, len(r.buf))
}

// AddState records a sample of every server of st at time now.
func (t *Traffic) AddState(st *State, now time.Time) {
	for _, sn := range st.Servers {
		t.Add(sn.Server, SampleOf(sn, now))
	}
}

// Samples returns server's samples of the window before now, oldest first.
func (t *Traffic) Samples(server string, now time.Time) []TrafficSample {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.servers[server]
	if r == nil {
		return nil
	}
	from := now.Add(-t.window)
	out := make([]TrafficSample, 0, r.n)
	for i := range r.n {
		s := r.buf[(r.next-r.n+i+len(r.buf))%len(r.buf)]
		if !s.Time.Before(from) {
			out = append(out, s)
		}
	}
	return out
}

// Forget drops a server's samples (it was removed).
func (t *Traffic) Forget(server string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.servers, server)
}
