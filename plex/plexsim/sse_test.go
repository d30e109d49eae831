package plexsim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

func TestEventStreamWireFormat(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	sse := dialSSE(t, s, "filters=playing,transcodeSession.start")
	if ct := sse.resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q, want text/event-stream", ct)
	}
	spec := sampleSessions()[2]
	spec.ViewOffsetMs = 61000
	ref := s.AddSession(spec)

	start := sse.next(t, 2*time.Second, true)
	playing := sse.next(t, 2*time.Second, true)

	wantPlaying := `event: playing` + "\n" +
		`data: {"PlaySessionStateNotification":{"sessionKey":"` + ref.Key + `","clientIdentifier":"p-carol","guid":"",` +
		`"ratingKey":"` + ratingKey(t, s) + `","key":"/library/metadata/` + ratingKey(t, s) + `","url":"","viewOffset":61000,` +
		`"playQueueItemID":1001,"state":"playing","transcodeSession":"` + ref.TranscodeKey + `"}}` + "\n\n"
	if playing.raw != wantPlaying {
		t.Errorf("playing event on the wire:\n got %q\nwant %q", playing.raw, wantPlaying)
	}

	if start.name != "transcodeSession.start" || !strings.HasPrefix(start.raw, "event: transcodeSession.start\ndata: {\"TranscodeSession\":{\"key\":\"/transcode/sessions/"+ref.TranscodeKey+"\",") ||
		!strings.HasSuffix(start.raw, "}}\n\n") || strings.Count(start.raw, "\n") != 3 {
		t.Errorf("transcodeSession.start on the wire = %q", start.raw)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(start.data)); err != nil || compact.String() != start.data {
		t.Errorf("data is not compact JSON (%v): %s", err, start.data)
	}
	ev, err := plex.ParseEvent(start.name, []byte(start.data))
	if err != nil || ev.Transcode.VideoDecision != "transcode" || ev.Transcode.Height != 1080 || !ev.Transcode.TranscodeHwRequested || ev.Transcode.SourceVideoCodec != "hevc" {
		t.Errorf("transcodeSession.start = %+v, %v", ev.Transcode, err)
	}
}

func ratingKey(t *testing.T, s *plexsim.Server) string {
	t.Helper()
	ms := s.Sessions()
	if len(ms) == 0 {
		t.Fatal("no session")
	}
	return string(ms[len(ms)-1].RatingKey)
}

func TestEventStreamFilters(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"omitted: all but log", "", []string{"transcodeSession.start", "playing", "activity"}},
		{"empty: everything", "filters=", []string{"transcodeSession.start", "playing", "activity", "log"}},
		{"only playing", "filters=playing", []string{"playing"}},
		{"list", "filters=playing,transcodeSession.start", []string{"transcodeSession.start", "playing"}},
		{"exclude", "filters=-playing", []string{"transcodeSession.start", "activity", "log"}},
		{"exclude two", "filters=-playing,-log", []string{"transcodeSession.start", "activity"}},
		{"a leading minus excludes the list", "filters=-playing,log", []string{"transcodeSession.start", "activity"}},
		{"singular filter is not a filter", "filter=playing", []string{"transcodeSession.start", "playing", "activity"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, plexsim.Options{})
			sse := dialSSE(t, s, tt.query)
			s.AddSession(sampleSessions()[2])
			s.Emit("activity", []byte(`{"ActivityNotification":{"event":"started"}}`))
			s.Emit("log", []byte(`{"LogSentNotification":{"text":"x"}}`))
			if got := names(sse.collect(200 * time.Millisecond)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events with %q = %v, want %v", tt.query, got, tt.want)
			}
		})
	}
}

func TestEventStreamPings(t *testing.T) {
	var mu sync.Mutex
	sent := map[string]int{}
	s := startSim(t, plexsim.Options{PingInterval: 30 * time.Millisecond})
	s.OnEventSent(func(name string, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		sent[name]++
	})
	// Pings follow filters like any event: a list without "ping" gets none.
	quiet := dialSSE(t, s, "filters=playing")
	sse := dialSSE(t, s, "filters=playing,ping")
	for i := 0; i < 3; i++ {
		ev := sse.next(t, 2*time.Second, false)
		if ev.raw != "event: ping\ndata: {}\n\n" {
			t.Fatalf("ping %d on the wire = %q, want %q", i, ev.raw, "event: ping\ndata: {}\n\n")
		}
	}
	if got := quiet.collect(100 * time.Millisecond); len(got) != 0 {
		t.Errorf("filters=playing got %v, want no pings", names(got))
	}
	mu.Lock()
	defer mu.Unlock()
	if sent["ping"] < 3 {
		t.Errorf("OnEventSent saw %d pings, want >= 3", sent["ping"])
	}
}

func TestEventStreamStall(t *testing.T) {
	s := startSim(t, plexsim.Options{PingInterval: 20 * time.Millisecond})
	sse := dialSSE(t, s, "")
	sse.next(t, 2*time.Second, false) // a ping: the stream is alive
	s.Stall(true)
	// Let any frame that was being written when Stall took effect arrive.
	time.Sleep(50 * time.Millisecond)
	for len(sse.events) > 0 {
		<-sse.events
	}
	s.AddSession(sampleSessions()[0])
	select {
	case ev := <-sse.events:
		t.Fatalf("stalled stream delivered %q", ev.name)
	case <-time.After(200 * time.Millisecond):
	}
	if n := s.StreamCount(); n != 1 {
		t.Errorf("StreamCount while stalled = %d, want 1 (open)", n)
	}
	s.Stall(false)
	if ev := sse.next(t, 2*time.Second, false); ev.name != "ping" {
		t.Errorf("first event after the stall = %q, want ping", ev.name)
	}
}

func TestDropStreams(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	a, b := dialSSE(t, s, ""), dialSSE(t, s, "filters=playing")
	if n := s.StreamCount(); n != 2 {
		t.Fatalf("StreamCount = %d, want 2", n)
	}
	s.DropStreams()
	for i, c := range []*sseConn{a, b} {
		select {
		case <-c.done:
			if c.err != io.EOF {
				t.Errorf("stream %d ended with %v, want io.EOF", i, c.err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("stream %d still open after DropStreams", i)
		}
	}
	waitFor(t, 2*time.Second, "StreamCount 0", func() bool { return s.StreamCount() == 0 })
}

func TestSendRaw(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 200<<10)
	tests := []struct {
		name     string
		event    string
		data     []byte
		wantRaw  string // exact wire text, when short
		wantData string // reassembled data
	}{
		{"malformed json", "playing", []byte(`{"PlaySessionStateNotification":`), "event: playing\ndata: {\"PlaySessionStateNotification\":\n\n", `{"PlaySessionStateNotification":`},
		{"multi-line", "activity", []byte("{\n\"a\":1\n}"), "event: activity\ndata: {\ndata: \"a\":1\ndata: }\n\n", "{\n\"a\":1\n}"},
		{"unknown name ignores filters", "reachability", []byte(`{}`), "event: reachability\ndata: {}\n\n", "{}"},
		{"200 KB", "playing", big, "", string(big)},
	}
	s := startSim(t, plexsim.Options{})
	sse := dialSSE(t, s, "filters=playing")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.SendRaw(tt.event, tt.data)
			ev := sse.next(t, 5*time.Second, true)
			if ev.name != tt.event || ev.data != tt.wantData {
				t.Errorf("got event %q with %d bytes of data, want %q with %d", ev.name, len(ev.data), tt.event, len(tt.wantData))
			}
			if tt.wantRaw != "" && ev.raw != tt.wantRaw {
				t.Errorf("wire = %q, want %q", ev.raw, tt.wantRaw)
			}
		})
	}
}

func TestSlowStreamDoesNotBlock(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	// A reader that never reads: the scenario API must not block on it.
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/:/eventsource/notifications", nil)
	req.Header.Set("X-Plex-Token", testToken)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	big := bytes.Repeat([]byte("y"), 64<<10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 2000; i++ {
			s.SendRaw("playing", big)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("SendRaw blocked on a slow stream")
	}
	waitFor(t, 5*time.Second, "slow stream dropped", func() bool { return s.StreamCount() == 0 })
}

func TestEventStreamDelayAndFailNext(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	s.FailNext(503, 1)
	if _, status := dialSSEStatus(t, s, ""); status != 503 {
		t.Errorf("FailNext event stream = %d, want 503", status)
	}
	s.SetDelay(100 * time.Millisecond)
	start := time.Now()
	dialSSE(t, s, "")
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("stream headers after %v, want >= 100ms", d)
	}
}

// TestCloseLeavesNoGoroutines closes a server with open streams, a delayed
// request in flight and a running demo.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	s := plexsim.New(plexsim.Options{Token: testToken, PingInterval: 10 * time.Millisecond})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var bodies []io.ReadCloser
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/:/eventsource/notifications", nil)
		req.Header.Set("X-Plex-Token", testToken)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, resp.Body)
	}
	s.SetDelay(time.Hour)
	inflight := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/status/sessions", nil)
		req.Header.Set("X-Plex-Token", testToken)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		inflight <- err
	}()
	waitFor(t, 2*time.Second, "the delayed request", func() bool { return len(s.Requests()) == 4 })

	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := <-inflight; err == nil {
		t.Errorf("the delayed request succeeded after Close, want a broken connection")
	}
	for _, b := range bodies {
		if _, err := io.ReadAll(b); err != nil && !strings.Contains(err.Error(), "EOF") {
			t.Logf("stream body after Close: %v", err)
		}
		b.Close()
	}
	if n := s.StreamCount(); n != 0 {
		t.Errorf("StreamCount after Close = %d", n)
	}
}
