package app

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/internal/words"
	"github.com/plexwarden/plexwarden/plex"
)

var notifyT0 = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

// notifySession returns a session of server "Home" that plays title for user.
func notifySession(user, title string, transcode bool) Session {
	s := Session{
		Server: "Home", SessionKey: user + "-" + title, User: user, Title: title,
		Kind: plex.KindPlayback, Decision: plex.DirectPlay, Short: "Direct Play", Reason: "Direct Play",
		Player: Player{Product: "Plex Web"},
	}
	if transcode {
		s.Decision, s.Short = plex.Transcode, "Transcode (HEVC 4K→1080p)"
		s.Reason = "Transcode: video HEVC 4K → H.264 1080p (HW), audio copy"
		s.TranscodeKey = "tk-" + user
	}
	return s
}

func connUpdate(server string, st ConnStatus, changes ...Change) Update {
	return Update{Snapshot: &Snapshot{Server: server, Conn: Conn{Status: st}}, Changes: changes}
}

func started(user, title string, transcode bool) Change {
	return Change{Kind: Started, Session: notifySession(user, title, transcode)}
}

// step is something that happens at a moment after notifyT0.
type step struct {
	at time.Duration
	do func(n *Notifier)
}

// popup is a notification with the moment it became due.
type popup struct {
	at time.Duration
	n  note
}

// note is what a popup says (the session fields are checked apart).
type note struct {
	Kind        NotifyKind
	Title, Body string
}

func (p popup) String() string {
	return fmt.Sprintf("@%v %v %q %q", p.at, p.n.Kind, p.n.Title, p.n.Body)
}

// primed connects "Home" long enough ago that its sessions count as new.
var primed = []step{
	{-time.Minute, func(n *Notifier) { n.Update(connUpdate("Home", Connected)) }},
}

func update(up Update) func(*Notifier) { return func(n *Notifier) { n.Update(up) } }

// simulate runs steps on a Notifier with a fake clock, polling Due every
// 100 ms until end, and returns every popup with the moment it was due.
func simulate(cfg Notifications, steps []step, end time.Duration) []popup {
	now := notifyT0.Add(-2 * time.Minute)
	n := NewNotifier(cfg, NotifierOptions{Window: 2 * time.Second, Gap: 3 * time.Second, Quiet: 10 * time.Second, Now: func() time.Time { return now }})
	var got []popup
	i := 0
	for at := -2 * time.Minute; at <= end; at += 100 * time.Millisecond {
		now = notifyT0.Add(at)
		for i < len(steps) && steps[i].at <= at {
			steps[i].do(n)
			i++
		}
		for _, x := range n.Due() {
			got = append(got, popup{at, note{x.Kind, x.Title, x.Body}})
		}
	}
	return got
}

func allOn() Notifications {
	return Notifications{NewSession: true, TranscodeStarted: true, Terminated: true, ServerLost: true, TokenRejected: true, Diagnostics: true}
}

func TestNotifier(t *testing.T) {
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	with := func(extra ...step) []step { return append(append([]step{}, primed...), extra...) }
	plexPass := Result{Outcome: OutcomePlexPass, Err: plex.ErrPlexPassRequired}
	tests := []struct {
		name  string
		cfg   Notifications
		steps []step
		want  []popup
	}{
		{
			name:  "one new session waits for the window",
			cfg:   allOn(),
			steps: with(step{0, update(connUpdate("Home", Connected, started("alice", "The Matrix", false)))}),
			want: []popup{{sec(2), note{NotifyNewSession, "New session: alice",
				"The Matrix · Direct Play · Plex Web · Home"}}},
		},
		{
			name: "three new sessions within the window become one popup",
			cfg:  allOn(),
			steps: with(
				step{0, update(connUpdate("Home", Connected, started("alice", "The Matrix", false)))},
				step{sec(0.5), update(connUpdate("Home", Connected, started("bob", "Heat", false)))},
				step{sec(1.5), update(connUpdate("Home", Connected, started("carol", "Alien", false)))},
			),
			want: []popup{{sec(2), note{NotifyNewSession, "3 new sessions: alice, bob, carol",
				"alice · The Matrix · Direct Play\nbob · Heat · Direct Play\ncarol · Alien · Direct Play"}}},
		},
		{
			name: "rate limit folds the excess into the next popup",
			cfg:  allOn(),
			steps: with(
				step{0, update(connUpdate("Home", Connected, started("alice", "The Matrix", false)))},
				step{sec(2.5), update(connUpdate("Home", Connected, started("bob", "Heat", false)))},
				step{sec(3), update(connUpdate("Home", Connected, started("carol", "Alien", false)))},
				step{sec(9), update(connUpdate("Home", Connected, started("dave", "Up", false)))},
			),
			want: []popup{
				{sec(2), note{NotifyNewSession, "New session: alice", "The Matrix · Direct Play · Plex Web · Home"}},
				// window would end at 4.5 s, the gap at 5 s
				{sec(5), note{NotifyNewSession, "2 new sessions: bob, carol", "bob · Heat · Direct Play\ncarol · Alien · Direct Play"}},
				// quiet again: only the window applies
				{sec(11), note{NotifyNewSession, "New session: dave", "Up · Direct Play · Plex Web · Home"}},
			},
		},
		{
			name: "kinds are limited separately",
			cfg:  allOn(),
			steps: with(
				step{0, update(connUpdate("Home", Connected, started("alice", "The Matrix", false)))},
				step{sec(1), update(connUpdate("Home", Connected, started("bob", "Heat", true)))},
			),
			want: []popup{
				{sec(2), note{NotifyNewSession, "New session: alice", "The Matrix · Direct Play · Plex Web · Home"}},
				{sec(3), note{NotifyTranscode, "Transcoding: bob", "Heat · Transcode: video HEVC 4K → H.264 1080p (HW), audio copy · Home"}},
			},
		},
		{
			name:  "a new transcoding session counts as a new session when transcode popups are off",
			cfg:   Notifications{NewSession: true},
			steps: with(step{0, update(connUpdate("Home", Connected, started("bob", "Heat", true)))}),
			want: []popup{{sec(2), note{NotifyNewSession, "New session: bob",
				"Heat · Transcode (HEVC 4K→1080p) · Plex Web · Home"}}},
		},
		{
			name: "a session that starts transcoding later",
			cfg:  allOn(),
			steps: with(step{0, func(n *Notifier) {
				prev := notifySession("alice", "The Matrix", false)
				n.Update(connUpdate("Home", Connected, Change{Kind: Changed, Session: notifySession("alice", "The Matrix", true), Prev: &prev}))
			}}),
			want: []popup{{sec(2), note{NotifyTranscode, "Transcoding: alice",
				"The Matrix · Transcode: video HEVC 4K → H.264 1080p (HW), audio copy · Home"}}},
		},
		{
			name:  "toggles off: nothing",
			cfg:   Notifications{},
			steps: with(step{0, update(connUpdate("Home", Connected, started("alice", "The Matrix", false), started("bob", "Heat", true)))}),
		},
		{
			name: "sessions playing when the server first connects are not new",
			cfg:  allOn(),
			steps: []step{
				{0, update(connUpdate("Home", Connected))},
				{sec(0.3), update(connUpdate("Home", Connected, started("alice", "The Matrix", false)))},
				{sec(12), update(connUpdate("Home", Connected, started("bob", "Heat", false)))},
			},
			want: []popup{{sec(14), note{NotifyNewSession, "New session: bob", "Heat · Direct Play · Plex Web · Home"}}},
		},
		{
			name: "pre-rolls are not announced",
			cfg:  allOn(),
			steps: with(step{0, func(n *Notifier) {
				c := started("alice", "Trailer", false)
				c.Session.Kind = plex.KindPreroll
				n.Update(connUpdate("Home", Connected, c))
			}}),
		},
		{
			name: "server lost, then back",
			cfg:  allOn(),
			steps: with(
				step{0, update(connUpdate("Home", Reconnecting))},
				step{sec(30), update(connUpdate("Home", Connecting))},
				step{sec(31), update(connUpdate("Home", Connected))},
			),
			want: []popup{
				{sec(2), note{NotifyServerLost, "Lost connection to Home", "Reconnecting"}},
				{sec(33), note{NotifyServerBack, "Home is back", "Connected again after 31s."}},
			},
		},
		{
			name: "a drop shorter than the window is not announced",
			cfg:  allOn(),
			steps: with(
				step{0, update(connUpdate("Home", Unreachable))},
				step{sec(1), update(connUpdate("Home", Connected))},
			),
		},
		{
			name: "two servers lost together",
			cfg:  allOn(),
			steps: []step{
				{-time.Minute, update(connUpdate("Home", Connected))},
				{-time.Minute, update(connUpdate("Cabin", Connected))},
				{0, update(connUpdate("Home", Unreachable))},
				{sec(1), update(connUpdate("Cabin", Reconnecting))},
			},
			want: []popup{{sec(2), note{NotifyServerLost, "Lost connection to 2 servers: Home, Cabin",
				"Home: unreachable\nCabin: reconnecting"}}},
		},
		{
			name:  "token rejected",
			cfg:   allOn(),
			steps: with(step{0, update(connUpdate("Home", Unauthorized))}),
			want: []popup{{sec(2), note{NotifyTokenRejected, "Token rejected by Home",
				"Plex Warden keeps retrying, every few minutes. Sign in again or update the token in Settings if it persists."}}},
		},
		{
			name: "token rejected: told once while the retries fail, again after it worked",
			cfg:  allOn(),
			steps: with(
				step{0, update(connUpdate("Home", Unauthorized))},
				step{sec(5), update(connUpdate("Home", Unreachable))},
				step{sec(8), update(connUpdate("Home", Unauthorized))},
				step{sec(20), update(connUpdate("Home", Connected))},
				step{sec(30), update(connUpdate("Home", Unauthorized))},
			),
			want: []popup{
				{sec(2), note{NotifyTokenRejected, "Token rejected by Home",
					"Plex Warden keeps retrying, every few minutes. Sign in again or update the token in Settings if it persists."}},
				{sec(22), note{NotifyServerBack, "Home is back", "Connected again after 20s."}},
				{sec(32), note{NotifyTokenRejected, "Token rejected by Home",
					"Plex Warden keeps retrying, every few minutes. Sign in again or update the token in Settings if it persists."}},
			},
		},
		{
			name:  "no token: said as such, not as a rejection",
			cfg:   allOn(),
			steps: with(step{0, update(connUpdate("Home", NoToken))}),
			want: []popup{{sec(2), note{NotifyTokenRejected, "No token for Home",
				"Plex Warden is not watching it. Sign in again, or add its token in Settings."}}},
		},
		{
			name:  "server toggle off: token rejection still shown",
			cfg:   Notifications{TokenRejected: true},
			steps: with(step{0, update(connUpdate("Home", Reconnecting))}, step{sec(10), update(connUpdate("Home", Unauthorized))}),
			want: []popup{{sec(12), note{NotifyTokenRejected, "Token rejected by Home",
				"Plex Warden keeps retrying, every few minutes. Sign in again or update the token in Settings if it persists."}}},
		},
		{
			name: "terminate results",
			cfg:  allOn(),
			steps: with(
				step{0, func(n *Notifier) {
					n.Terminated(notifySession("alice", "The Matrix", true), "you", Result{Outcome: OutcomeDone})
				}},
				step{sec(10), func(n *Notifier) {
					n.Terminated(notifySession("bob", "Heat", true), "rule “no 4K”", Result{Outcome: OutcomeDone})
				}},
				step{sec(10.5), func(n *Notifier) { n.Terminated(notifySession("carol", "Alien", false), "rule “no 4K”", plexPass) }},
			),
			want: []popup{
				{sec(2), note{NotifyTerminated, "Terminated: alice · The Matrix", "Terminated by you."}},
				{sec(12), note{NotifyTerminated, "2 actions, not all succeeded: bob, carol",
					"bob · Heat: Terminated by rule “no 4K”.\ncarol · Alien: " + plexPass.Text() + " Asked by rule “no 4K”."}},
			},
		},
		{
			name: "stop transcode result",
			cfg:  allOn(),
			steps: with(step{0, func(n *Notifier) {
				n.TranscodeStopped(notifySession("alice", "The Matrix", true), "", Result{Outcome: OutcomeFailed, Err: errors.New("timeout")})
			}}),
			want: []popup{{sec(2), note{NotifyTerminated, "Could not stop the transcode: alice · The Matrix", "Failed: timeout"}}},
		},
		{
			name: "long bursts are cut after five lines",
			cfg:  allOn(),
			steps: with(step{0, func(n *Notifier) {
				var ch []Change
				for _, u := range []string{"a", "b", "c", "d", "e", "f", "g"} {
					ch = append(ch, started(u, "T", false))
				}
				n.Update(connUpdate("Home", Connected, ch...))
			}}),
			want: []popup{{sec(2), note{NotifyNewSession, "7 new sessions: a, b, c +4",
				"a · T · Direct Play\nb · T · Direct Play\nc · T · Direct Play\nd · T · Direct Play\ne · T · Direct Play\nand 2 more"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := simulate(tt.cfg, tt.steps, 40*time.Second)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("popups:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestNotifierSetConfigDropsPending(t *testing.T) {
	now := notifyT0
	n := NewNotifier(allOn(), NotifierOptions{Now: func() time.Time { return now }})
	n.Update(connUpdate("Home", Connected))
	now = now.Add(time.Minute)
	n.Update(connUpdate("Home", Connected, started("alice", "The Matrix", false)))
	if _, ok := n.Next(); !ok {
		t.Fatal("Next() reports nothing pending after a new session")
	}
	cfg := allOn()
	cfg.NewSession = false
	n.SetConfig(cfg)
	now = now.Add(time.Minute)
	if got := n.Due(); len(got) != 0 {
		t.Errorf("Due() after switching new-session popups off = %v, want none", got)
	}
	if _, ok := n.Next(); ok {
		t.Errorf("Next() still reports a pending popup")
	}
}

func TestNotifierRun(t *testing.T) {
	n := NewNotifier(allOn(), NotifierOptions{Window: 20 * time.Millisecond, Gap: 20 * time.Millisecond, Quiet: time.Millisecond})
	n.Update(connUpdate("Home", Connected))
	time.Sleep(5 * time.Millisecond)
	var mu sync.Mutex
	var got []Notification
	sent := make(chan struct{}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.Run(ctx, func(x Notification) {
			mu.Lock()
			got = append(got, x)
			mu.Unlock()
			sent <- struct{}{}
		})
	}()
	n.Update(connUpdate("Home", Connected, started("alice", "The Matrix", false), started("bob", "Heat", false)))
	select {
	case <-sent:
	case <-time.After(5 * time.Second):
		t.Fatal("Run sent nothing within 5 s")
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Title != "2 new sessions: alice, bob" {
		t.Errorf("Run sent %v, want one popup titled %q", got, "2 new sessions: alice, bob")
	}
}

func TestShortDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{31 * time.Second, "31s"},
		{2 * time.Minute, "2m"},
		{3*time.Minute + 20*time.Second, "3m20s"},
		{2*time.Hour + 5*time.Minute, "2h5m"},
		{3 * time.Hour, "3h"},
	}
	for _, tt := range tests {
		if got := words.ShortDuration(tt.d); got != tt.want {
			t.Errorf("words.ShortDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestNotifierPush(t *testing.T) {
	note := Notification{Kind: NotifyDiagnostic, Title: "Transcode storm on Den", Body: "Plex for Roku (bob) started 41 transcodes in 2 minutes."}
	tests := []struct {
		name string
		on   bool
		want int
	}{
		{"switched on", true, 1},
		{"switched off", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := notifyT0
			cfg := allOn()
			cfg.Diagnostics = tt.on
			n := NewNotifier(cfg, NotifierOptions{Now: func() time.Time { return now }})
			n.Push(note)
			n.Push(note) // the same finding twice is one popup
			now = now.Add(time.Minute)
			got := n.Due()
			if len(got) != tt.want {
				t.Fatalf("Due() = %+v, want %d notification(s)", got, tt.want)
			}
			if tt.want == 1 && (got[0].Title != note.Title || got[0].Kind != NotifyDiagnostic) {
				t.Errorf("Due()[0] = %+v, want %+v", got[0], note)
			}
		})
	}
}
