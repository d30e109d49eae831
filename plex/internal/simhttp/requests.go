package simhttp

import (
	"net/http"
	"time"
)

// Request is one logged request of a simulator.
type Request struct {
	Time         time.Time
	Method       string
	Path         string
	RawQuery     string
	Header       http.Header
	TokenInQuery bool // X-Plex-Token was sent in the query string (accepted, but a violation)
}

// MaxRequests bounds a RequestLog so a long demo does not grow without
// limit; the oldest entries are dropped first.
const MaxRequests = 10000

// RequestLog is a simulator's request log, the newest MaxRequests (about).
// It does no locking: the simulator holds its own lock around it.
type RequestLog struct{ list []Request }

// Add logs r as it arrived at time at.
func (l *RequestLog) Add(r *http.Request, at time.Time) {
	l.list = append(l.list, Request{
		Time:         at,
		Method:       r.Method,
		Path:         r.URL.Path,
		RawQuery:     r.URL.RawQuery,
		Header:       r.Header.Clone(),
		TokenInQuery: r.URL.Query().Has("X-Plex-Token"),
	})
	if n := len(l.list); n > MaxRequests+MaxRequests/10 {
		// Trim in batches so a long demo does not copy the log on every request.
		l.list = append(l.list[:0:0], l.list[n-MaxRequests:]...)
	}
}

// List returns a copy of the log, oldest first (headers copied too).
func (l *RequestLog) List() []Request {
	out := make([]Request, len(l.list))
	for i, r := range l.list {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}
