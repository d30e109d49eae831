package plex

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/r3labs/sse/v2"
	backoff "gopkg.in/cenkalti/backoff.v1"
)

// FeedStatus is the state of the event stream connection.
type FeedStatus int

// Feed states.
const (
	FeedConnecting   FeedStatus = iota // first attempt under way
	FeedConnected                      // 200 received, stream open
	FeedReconnecting                   // lost; NextRetry says when we try again
	FeedUnauthorized                   // 401/403: retried with the long AuthMinBackoff…AuthMaxBackoff pause (NextRetry)
	FeedStopped                        // Run returned
)

// FeedState is reported to Feed.OnState on every transition.
type FeedState struct {
	Status    FeedStatus
	Err       error     // why the stream was lost (token-free), nil when connected
	NextRetry time.Time // for FeedReconnecting and FeedUnauthorized
}

// Feed follows /:/eventsource/notifications with our own reconnect loop
// around github.com/r3labs/sse/v2, which does not reconnect after a clean EOF
// (r3labs/sse#147), ignores context cancel while retrying (#131), gives up
// after 15 minutes by default and splits events at 64 KiB. The library gets
// one attempt per pass (StopBackOff); this loop owns the retry policy:
// exponential backoff from 500 ms to 30 s, forever; a Retry-After of a 429
// or 503 answer lengthens the pause up to that cap. A rejected token
// (401/403) does not end the feed either: a server restarting, or an
// account briefly out of sync with plex.tv, rejects a good token for a
// while, so it is retried with a long backoff (1 min growing to 15 min).
//
// The callbacks run on the goroutine that called Run and must not block for
// long; set them before Run.
type Feed struct {
	URL string
	// URLFunc, when set, gives the URL before every attempt instead of URL
	// (NewFeed sets it so the feed follows Client.SetBaseURL).
	URLFunc func() string
	Header  http.Header // X-Plex-* headers, token included; never logged
	HTTP    *http.Client
	Silence time.Duration // no event for this long = dead stream (default 45 s; Plex pings every ~10 s)
	// MinBackoff and MaxBackoff bound the pause between attempts
	// (defaults 500 ms and 30 s).
	MinBackoff, MaxBackoff time.Duration
	// AuthMinBackoff and AuthMaxBackoff bound the pause after the token was
	// rejected (defaults 1 min and 15 min).
	AuthMinBackoff, AuthMaxBackoff time.Duration

	// OnEvent receives every well-formed event, pings included.
	OnEvent func(Event)
	// OnConnect fires after every successful (re)connect, as soon as the
	// server answered 200: Plex does not replay missed events, so the
	// receiver re-reads /status/sessions (the "resync" signal).
	OnConnect func()
	// OnState receives connection state transitions.
	OnState func(FeedState)
	// OnBadEvent receives events that could not be decoded; the stream goes on.
	OnBadEvent func(name string, err error)

	events   atomic.Int64
	tooLarge atomic.Int64

	kickMu sync.Mutex
	kick   chan struct{} // Reconnect's signal; made on first use
}

// kicker returns the channel Reconnect signals on.
func (f *Feed) kicker() chan struct{} {
	f.kickMu.Lock()
	defer f.kickMu.Unlock()
	if f.kick == nil {
		f.kick = make(chan struct{}, 1)
	}
	return f.kick
}

// Reconnect asks a running feed to drop its stream (or its pending retry)
// and connect again at once, to the URL it gets now: after the client
// moved to another address. It does not block; signals collapse.
func (f *Feed) Reconnect() {
	select {
	case f.kicker() <- struct{}{}:
	default:
	}
}

// errKicked marks a stream dropped by Reconnect.
var errKicked = errors.New("switching to another address of the server")

func (f *Feed) url() string {
	if f.URLFunc != nil {
		return f.URLFunc()
	}
	return f.URL
}

// NewFeed returns a feed for the server of c with the given event filters
// (nil: DefaultFilters).
func (c *Client) NewFeed(filters []string) *Feed {
	if filters == nil {
		filters = DefaultFilters
	}
	return &Feed{URL: c.EventsURL(filters), URLFunc: func() string { return c.EventsURL(filters) },
		Header: c.Headers(), HTTP: c.HTTPClient()}
}

// TooLarge returns how many events over MaxEventSize the feed skipped.
func (f *Feed) TooLarge() int64 { return f.tooLarge.Load() }

// Events returns how many events (pings included) the feed has received.
func (f *Feed) Events() int64 { return f.events.Load() }

// errSilence marks a stream closed by the silence watchdog.
var errSilence = errors.New("no data from the server (silence watchdog)")

// ErrEventTooLarge is what OnBadEvent receives for an event over
// MaxEventSize (or a line without end): it is skipped, the stream is
// reopened at once, and the reconnect's OnConnect resyncs.
var ErrEventTooLarge = errors.New("event too large, skipped")

// errEOF marks a stream the server closed cleanly.
var errEOF = errors.New("the server closed the event stream")

// Run keeps the event stream open until ctx ends, and returns ctx.Err().
// A rejected token is reported (FeedUnauthorized) and retried, slowly.
func (f *Feed) Run(ctx context.Context) error {
	silence := valueOr(f.Silence, 45*time.Second)
	maxPause := valueOr(f.MaxBackoff, 30*time.Second)
	b := newBackoff(valueOr(f.MinBackoff, 500*time.Millisecond), maxPause)
	auth := newBackoff(valueOr(f.AuthMinBackoff, time.Minute), valueOr(f.AuthMaxBackoff, 15*time.Minute))
	kick := f.kicker()
	lastTooLarge := false // the previous stream ended on an oversized event
	defer f.state(FeedState{Status: FeedStopped})
	f.state(FeedState{Status: FeedConnecting})
	for {
		start, evBefore := time.Now(), f.events.Load()
		connected, err := f.connectOnce(ctx, silence, kick)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if connected {
			auth.Reset() // the token worked: a later rejection starts short again
		}
		if errors.Is(err, errKicked) {
			b.Reset()
			f.state(FeedState{Status: FeedReconnecting, Err: err, NextRetry: time.Now()})
			continue
		}
		if errors.Is(err, bufio.ErrTooLong) {
			// One oversized event is not an outage: skip it, count it and
			// reopen at once (the reconnect resyncs). Only a server that
			// sends nothing else gets the usual backoff and state.
			f.tooLarge.Add(1)
			if f.OnBadEvent != nil {
				f.OnBadEvent("", ErrEventTooLarge)
			}
			err = ErrEventTooLarge
			if connected && (!lastTooLarge || f.events.Load() > evBefore) {
				lastTooLarge = true
				continue
			}
		}
		lastTooLarge = errors.Is(err, ErrEventTooLarge)
		var pause time.Duration
		status := FeedReconnecting
		if errors.Is(err, ErrUnauthorized) {
			status, pause = FeedUnauthorized, auth.NextBackOff()
		} else {
			if time.Since(start) > 10*time.Second {
				b.Reset() // the connection was healthy for a while: start over fast
			}
			pause = b.NextBackOff()
			if ra := retryAfter(err); ra > pause {
				pause = min(ra, maxPause)
			}
		}
		if err == nil {
			err = errEOF
		}
		f.state(FeedState{Status: status, Err: err, NextRetry: time.Now().Add(pause)})
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-kick:
			t.Stop()
			b.Reset()
		case <-t.C:
		}
	}
}

// newBackoff returns an endless exponential backoff from lo to hi with
// 20 % jitter.
func newBackoff(lo, hi time.Duration) *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = lo
	b.MaxInterval = hi
	b.Multiplier = 2
	b.RandomizationFactor = 0.2
	b.MaxElapsedTime = 0 // forever
	b.Reset()
	return b
}

// retryAfter is the Retry-After an error's answer carried, 0 if none.
func retryAfter(err error) time.Duration {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.RetryAfter
	}
	return 0
}

func valueOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (f *Feed) state(s FeedState) {
	if f.OnState != nil {
		f.OnState(s)
	}
}

// connectOnce opens the stream once and reads it until it ends. It reports
// whether the server accepted the request (200), and returns nil on a
// clean EOF, errSilence when the watchdog fired, errKicked after a
// Reconnect, or the error.
func (f *Feed) connectOnce(ctx context.Context, silence time.Duration, kick <-chan struct{}) (connected bool, _ error) {
	connCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(silence, func() { cancel(errSilence) })
	defer watchdog.Stop()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-kick:
			cancel(errKicked)
		case <-done:
		}
	}()

	target := f.url()
	c := sse.NewClient(target, sse.ClientMaxBufferSize(MaxEventSize))
	c.Connection = SafeHTTPClient(f.HTTP) // the token never follows a redirect to another host
	c.Headers = map[string]string{}
	for k, v := range f.Header {
		if len(v) > 0 && k != "Accept" {
			c.Headers[k] = v[0]
		}
	}
	// One attempt per pass: our loop owns the retry policy.
	c.ReconnectStrategy = backoff.WithContext(&backoff.StopBackOff{}, connCtx)
	c.ResponseValidator = func(_ *sse.Client, resp *http.Response) error {
		if resp.StatusCode == http.StatusOK {
			connected = true
			f.state(FeedState{Status: FeedConnected})
			if f.OnConnect != nil {
				f.OnConnect()
			}
			return nil
		}
		resp.Body.Close() // the library leaves it open on error
		err := &Error{Op: "event stream", Server: resp.Request.URL.Scheme + "://" + resp.Request.URL.Host, Status: resp.StatusCode,
			Err: statusError(resp.StatusCode), RetryAfter: parseRetryAfter(resp, time.Now())}
		if resp.StatusCode == http.StatusForbidden {
			err.Err = ErrUnauthorized
		}
		return err
	}
	c.OnDisconnect(func(*sse.Client) {}) // resets the library's Connected flag
	err := c.SubscribeRawWithContext(connCtx, func(msg *sse.Event) {
		watchdog.Reset(silence)
		if len(msg.Event) == 0 && len(msg.Data) == 0 {
			return // a comment keep-alive after an id: arrives as an empty event
		}
		f.events.Add(1)
		name := string(msg.Event)
		ev, perr := ParseEvent(name, msg.Data)
		if perr != nil {
			if f.OnBadEvent != nil {
				f.OnBadEvent(name, perr)
			}
			return
		}
		if f.OnEvent != nil {
			f.OnEvent(ev)
		}
	})
	if cause := context.Cause(connCtx); ctx.Err() == nil && (errors.Is(cause, errSilence) || errors.Is(cause, errKicked)) {
		return connected, cause
	}
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return connected, pe
		}
		if errors.Is(err, bufio.ErrTooLong) {
			return connected, err
		}
		detail, sentinel := TransportError(connCtx, err, PeerServer)
		return connected, &Error{Op: "event stream", Server: serverOf(target), Err: sentinel, Detail: detail}
	}
	return connected, nil
}

func serverOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "server"
	}
	return u.Scheme + "://" + u.Host
}

// String describes a feed state in words.
func (s FeedState) String() string {
	switch s.Status {
	case FeedConnecting:
		return "connecting"
	case FeedConnected:
		return "connected"
	case FeedReconnecting:
		return fmt.Sprintf("reconnecting at %s: %v", s.NextRetry.Format("15:04:05"), s.Err)
	case FeedUnauthorized:
		return fmt.Sprintf("token rejected, retrying at %s", s.NextRetry.Format("15:04:05"))
	}
	return "stopped"
}
