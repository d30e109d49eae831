package alert

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
)

// recorder is a Sender that keeps what it got.
type recorder struct {
	mu  sync.Mutex
	got []app.Notification
}

func (r *recorder) Send(_ context.Context, n app.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, n)
	return nil
}

func (r *recorder) titles() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.got {
		out = append(out, n.Title)
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func allKinds() app.Notifications {
	return app.Notifications{NewSession: true, TranscodeStarted: true, Terminated: true, ServerLost: true, TokenRejected: true, Diagnostics: true}
}

// A channel whose server is down or hangs reports a clear error and does
// not hold back the others; each gets only the kinds it switched on.
func TestDispatcherFailingChannel(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	hang := make(chan struct{})
	slow, _ := httpSink(t, http.StatusOK)
	slow.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang })
	defer close(hang)

	var mu sync.Mutex
	errs := map[string]string{}
	d := New(Options{OnError: func(ch string, err error) { mu.Lock(); errs[ch] = err.Error(); mu.Unlock() }})
	good := &recorder{}
	onlyTerminated := &recorder{}
	d.SetChannels([]Channel{
		mustBuild(t, app.AlertChannel{Name: "down", Type: "ntfy", URL: "http://" + deadAddr + "/t", Kinds: allKinds()}, ""),
		mustBuild(t, app.AlertChannel{Name: "hangs", Type: "webhook", URL: slow.URL, Kinds: allKinds()}, ""),
		{Name: "good", Kinds: allKinds(), Sender: good},
		{Name: "terminated only", Kinds: app.Notifications{Terminated: true}, Sender: onlyTerminated},
	})
	ctx, cancel := context.WithCancel(context.Background())
	d.Start(ctx)
	defer func() { cancel(); d.Wait() }()

	d.Send(testNote)
	d.Send(app.Notification{Kind: app.NotifyTerminated, Title: "Terminated: bob · Heat"})
	waitFor(t, "both notes on the good channel", func() bool { return len(good.titles()) == 2 })
	waitFor(t, "the terminate on its channel", func() bool { return len(onlyTerminated.titles()) > 0 })
	time.Sleep(20 * time.Millisecond) // a wrongly routed transcode would have arrived too
	if got := onlyTerminated.titles(); len(got) != 1 || got[0] != "Terminated: bob · Heat" {
		t.Errorf("terminated-only channel got %q, want only the terminate", got)
	}
	waitFor(t, "the down channel's error", func() bool { mu.Lock(); defer mu.Unlock(); return errs["down"] != "" })
	mu.Lock()
	msg := errs["down"]
	mu.Unlock()
	if want := "could not reach " + deadAddr + " (connection refused)"; msg != want {
		t.Errorf("down channel error = %q, want %q", msg, want)
	}
	if got := d.Status("down"); got != msg {
		t.Errorf("Status(down) = %q, want the error", got)
	}
	if got := d.Status("good"); got != "" {
		t.Errorf("Status(good) = %q, want none", got)
	}
}

// Over the limit, notifications are held back and summed up in one
// message once the minute allows.
func TestDispatcherRateLimit(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	d := New(Options{Now: clock})
	rec := &recorder{}
	d.SetChannels([]Channel{{Name: "phone", Kinds: allKinds(), PerMinute: 2, Sender: rec}})
	ctx, cancel := context.WithCancel(context.Background())
	d.Start(ctx)
	defer func() { cancel(); d.Wait() }()

	for _, u := range []string{"a", "b", "c", "d", "e"} {
		d.Send(app.Notification{Kind: app.NotifyNewSession, Title: "New session: " + u})
	}
	waitFor(t, "two sent", func() bool { return len(rec.titles()) == 2 })
	time.Sleep(50 * time.Millisecond)
	if got := rec.titles(); len(got) != 2 {
		t.Fatalf("sent %q within the minute, want 2", got)
	}
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	d.Send(app.Notification{Kind: app.NotifyNewSession, Title: "New session: f"})
	waitFor(t, "the summary and f", func() bool { return len(rec.titles()) == 4 })
	got := rec.titles()
	want := []string{"New session: a", "New session: b", "3 alerts were not sent (rate limit)", "New session: f"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sent %q, want %q", got, want)
		}
	}
	rec.mu.Lock()
	body := rec.got[2].Body
	rec.mu.Unlock()
	if body != "New session: c\nNew session: d\nNew session: e" {
		t.Errorf("summary body = %q, want the held-back titles", body)
	}
}

// "Send test" renders a real session, preferring a transcode, or a
// realistic sample: never a template placeholder.
func TestTestNotification(t *testing.T) {
	direct := app.Session{Server: "Home", SessionKey: "1", User: "bob", Title: "Heat", Decision: plex.DirectPlay, Short: "Direct Play",
		Kind: plex.KindPlayback, Player: app.Player{Product: "Plex Web"}}
	tc := app.Session{Server: "Home", SessionKey: "2", User: "carol", Title: "Alien", Decision: plex.Transcode,
		Kind: plex.KindPlayback, Reason: "Transcode: video HEVC → H.264"}
	tests := []struct {
		name      string
		st        *app.State
		wantTitle string
		wantBody  string
	}{
		{"nothing playing", nil, "Transcoding: alice (test from Plex Warden)",
			"Blade Runner 2049 (2017) · Transcode: video HEVC 4K → H.264 1080p (HW), audio copy · Sample server"},
		{"a direct play", &app.State{Servers: []*app.Snapshot{app.Snapshot{Server: "Home"}.WithSessions(direct)}},
			"New session: bob (test from Plex Warden)", "Heat · Direct Play · Plex Web · Home"},
		{"a transcode wins", &app.State{Servers: []*app.Snapshot{app.Snapshot{Server: "Home"}.WithSessions(direct, tc)}},
			"Transcoding: carol (test from Plex Warden)", "Alien · Transcode: video HEVC → H.264 · Home"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := TestNotification(tt.st)
			if n.Title != tt.wantTitle || n.Body != tt.wantBody {
				t.Errorf("TestNotification = %q / %q, want %q / %q", n.Title, n.Body, tt.wantTitle, tt.wantBody)
			}
			if strings.ContainsAny(n.Title+n.Body, "{}") {
				t.Errorf("placeholder left in %q / %q", n.Title, n.Body)
			}
		})
	}
}

// A channel failing the same way again is logged once (OnError hears every
// failure); a different failure is logged again.
func TestDispatcherLogsFailureOnce(t *testing.T) {
	var logBuf strings.Builder
	var mu sync.Mutex
	onErr := 0
	d := New(Options{Log: slog.New(slog.NewTextHandler(&lockedWriter{w: &logBuf, mu: &mu}, nil)),
		OnError: func(string, error) { mu.Lock(); onErr++; mu.Unlock() }})
	errs := []error{errors.New("no notification service"), errors.New("no notification service"), errors.New("no notification service"), errors.New("bus closed")}
	i := 0
	d.SetChannels([]Channel{{Name: "desktop popups", Kinds: allKinds(), Sender: SenderFunc(func(context.Context, app.Notification) error {
		err := errs[i]
		i++
		return err
	})}})
	ctx, cancel := context.WithCancel(context.Background())
	d.Start(ctx)
	defer func() { cancel(); d.Wait() }()
	for range errs {
		d.Send(testNote)
	}
	waitFor(t, "four failures", func() bool { mu.Lock(); defer mu.Unlock(); return onErr == 4 })
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Count(logBuf.String(), "alert not delivered"); got != 2 {
		t.Errorf("logged %d failures, want 2 (one per distinct error):\n%s", got, logBuf.String())
	}
}

type lockedWriter struct {
	w  *strings.Builder
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
