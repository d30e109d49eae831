package app

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

// BenchmarkFeedThroughput measures SSE events per second through the real
// feed (r3labs/sse frame reader, ParseEvent) and the monitor (lookup and
// position update of a known session), over loopback. A test server writes
// n timeline events for one live session as fast as the socket takes them,
// then a "paused" event; the clock stops when the monitor publishes that
// pause, so every event before it has been handled. events/s is over the
// time from the first byte written to that publish.
func BenchmarkFeedThroughput(b *testing.B) {
	const n = 20000
	var frames bytes.Buffer
	for i := range n {
		fmt.Fprintf(&frames, "event: playing\ndata: {\"PlaySessionStateNotification\":{\"sessionKey\":\"1\",\"clientIdentifier\":\"p1\",\"key\":\"/library/metadata/9\",\"ratingKey\":\"9\",\"viewOffset\":%d,\"state\":\"playing\"}}\n\n", i*1000)
	}
	frames.WriteString("event: playing\ndata: {\"PlaySessionStateNotification\":{\"sessionKey\":\"1\",\"state\":\"paused\"}}\n\n")
	body := frames.Bytes()
	sessions := []byte(`{"MediaContainer":{"size":1,"Metadata":[{"sessionKey":"1","type":"movie","title":"Film","Player":{"machineIdentifier":"p1","state":"playing"},"Session":{"id":"s1"},"User":{"title":"alice"}}]}}`)

	var writeStart atomic.Int64 // when the server began writing the burst
	mux := http.NewServeMux()
	mux.HandleFunc("/status/sessions", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(sessions) })
	mux.HandleFunc("/:/eventsource/notifications", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-time.After(50 * time.Millisecond) // the resync fetch lands first
		writeStart.Store(time.Now().UnixNano())
		_, _ = w.Write(body)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	var total time.Duration
	for range b.N {
		b.StopTimer()
		c, _ := plex.NewClient("http://"+ln.Addr().String(), "t", plex.ClientInfo{ID: "bench"})
		m := NewMonitor(MonitorConfig{Server: "b", Source: c, Feed: c.NewFeed(nil), Reconcile: time.Hour})
		paused := make(chan time.Time, 1)
		var started atomic.Int64
		m.Subscribe(func(up Update) {
			for _, ch := range up.Changes {
				if ch.Kind == Started {
					started.Store(time.Now().UnixNano())
				}
				if ch.Kind == Changed && ch.Session.State == "paused" {
					select {
					case paused <- time.Now():
					default:
					}
				}
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = m.Run(ctx); close(done) }()
		for started.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		b.StartTimer()
		select {
		case t1 := <-paused:
			total += t1.Sub(time.Unix(0, writeStart.Load()))
		case <-time.After(30 * time.Second):
			b.Fatal("the pause never arrived")
		}
		b.StopTimer()
		cancel()
		<-done
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "events/s")
}
