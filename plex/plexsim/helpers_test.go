package plexsim_test

import (
	"bufio"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

const testToken = "secret-token"

// TestMain fails the package if any test leaves a goroutine running.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startSim starts a simulator on 127.0.0.1:0 and closes it after the test.
func startSim(t *testing.T, opts plexsim.Options) *plexsim.Server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	s := plexsim.New(opts)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newClient returns the real client with its own transport, closed after the test.
func newClient(t *testing.T, s *plexsim.Server, token string) *plex.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := plex.NewClient(s.URL(), token, plex.ClientInfo{ID: "test"},
		plex.WithHTTPClient(&http.Client{Transport: tr}), plex.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rawGet sends one request with the given headers and returns status,
// content type and body.
func rawDo(t *testing.T, method, url string, header http.Header) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if header != nil {
		req.Header = header
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func tokenHeader(accept string) http.Header {
	h := http.Header{}
	h.Set("X-Plex-Token", testToken)
	if accept != "" {
		h.Set("Accept", accept)
	}
	return h
}

// stripXMLName clears what only XML decoding fills, so JSON and XML answers
// compare equal.
func stripXMLName(ms []plex.Metadata) []plex.Metadata {
	out := append([]plex.Metadata(nil), ms...)
	for i := range out {
		out[i].XMLName = xml.Name{}
		// Plex's "size -22" (unknown while streaming) reads as 0, unknown.
		if ts := out[i].TranscodeSession; ts != nil && ts.Size < 0 {
			c := *ts
			c.Size = 0
			out[i].TranscodeSession = &c
		}
	}
	return out
}

// sseEvent is one event as read off the wire: raw is the exact text of the
// block including its terminating blank line.
type sseEvent struct {
	name string
	data string
	raw  string
}

// sseConn is an open event stream read by a goroutine into events, which
// is closed at EOF or error (err says which).
type sseConn struct {
	resp   *http.Response
	events chan sseEvent
	done   chan struct{}
	err    error // valid after done is closed
	cancel context.CancelFunc
}

// dialSSE opens /:/eventsource/notifications with the raw query and the
// token header; it fails the test on a non-200 answer.
func dialSSE(t *testing.T, s *plexsim.Server, rawQuery string) *sseConn {
	t.Helper()
	c, status := dialSSEStatus(t, s, rawQuery)
	if status != http.StatusOK {
		t.Fatalf("event stream status = %d, want 200", status)
	}
	return c
}

func dialSSEStatus(t *testing.T, s *plexsim.Server, rawQuery string) (*sseConn, int) {
	t.Helper()
	url := s.URL() + "/:/eventsource/notifications"
	if rawQuery != "" {
		url += "?" + rawQuery
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req.Header.Set("X-Plex-Token", testToken)
	req.Header.Set("Accept", "text/event-stream")
	tr := &http.Transport{}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		cancel()
		t.Fatalf("dial events: %v", err)
	}
	c := &sseConn{resp: resp, events: make(chan sseEvent, 1024), done: make(chan struct{}), cancel: cancel}
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-c.done
		tr.CloseIdleConnections()
	})
	if resp.StatusCode != http.StatusOK {
		close(c.events)
		close(c.done)
		return c, resp.StatusCode
	}
	go c.read()
	return c, resp.StatusCode
}

func (c *sseConn) read() {
	defer close(c.done)
	defer close(c.events)
	br := bufio.NewReaderSize(c.resp.Body, 1<<16)
	var raw strings.Builder
	var ev sseEvent
	var data []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			c.err = err
			return
		}
		raw.WriteString(line)
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			ev.data = strings.Join(data, "\n")
			ev.raw = raw.String()
			c.events <- ev
			ev, data = sseEvent{}, nil
			raw.Reset()
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
}

// next returns the next event that is not a ping (unless wantPing), failing
// the test after timeout.
func (c *sseConn) next(t *testing.T, timeout time.Duration, skipPings bool) sseEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatalf("stream ended: %v", c.err)
			}
			if skipPings && ev.name == plex.EventPing {
				continue
			}
			return ev
		case <-deadline:
			t.Fatalf("no event within %v", timeout)
		}
	}
}

// collect gathers non-ping events until quiet for the given time.
func (c *sseConn) collect(quiet time.Duration) []sseEvent {
	var out []sseEvent
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				return out
			}
			if ev.name != plex.EventPing {
				out = append(out, ev)
			}
		case <-time.After(quiet):
			return out
		}
	}
}

func names(evs []sseEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.name
	}
	return out
}

// waitFor polls cond until true or fails after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
