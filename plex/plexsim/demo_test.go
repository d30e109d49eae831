package plexsim_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// TestDemoCast checks the opening sessions show every kind of playback.
func TestDemoCast(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	for _, spec := range plexsim.DemoCast() {
		s.AddSession(spec)
	}
	got, err := newClient(t, s, testToken).Sessions(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 6 {
		t.Fatalf("demo cast has %d sessions, want 6", len(got))
	}
	have := map[string]bool{}
	users, players := map[string]bool{}, map[string]bool{}
	for i := range got {
		m := &got[i]
		c := plex.Classify(m)
		have[string(c.Decision)] = true
		users[m.User.Title] = true
		if players[string(m.Player.MachineIdentifier)] {
			t.Errorf("player %s used twice", m.Player.MachineIdentifier)
		}
		players[string(m.Player.MachineIdentifier)] = true
		switch {
		case c.VideoTranscode && c.SourceVideoCodec == "hevc" && c.SourceResolution == "4K" && c.TargetResolution == "1080p" && c.HW.Active():
			have["hevc 4k→1080p hw"] = true
		}
		if c.SubtitleBurn {
			have["burn"] = true
		}
		if c.AudioOnly && m.Type != "track" {
			have["audio-only"] = true
		}
		if plex.Location(m) == "wan" && strings.HasPrefix(m.Player.Address, "203.0.113.") {
			have["wan"] = true
		}
		if m.Type == "track" {
			have["track"] = true
		}
	}
	for _, want := range []string{"directplay", "copy", "transcode", "hevc 4k→1080p hw", "burn", "audio-only", "wan", "track"} {
		if !have[want] {
			t.Errorf("demo cast lacks %q (has %v)", want, have)
		}
	}
	for _, u := range []string{"alice", "bob", "carol", "dave", "erin", "frank"} {
		if !users[u] {
			t.Errorf("demo cast lacks user %s", u)
		}
	}
}

// TestRunDemo runs the demo fast and checks sessions come and go while
// staying within bounds, and that it stops with its context.
func TestRunDemo(t *testing.T) {
	// Stopped sessions are removed at once here: the test watches the list
	// for a session that ended (lingering is tested in server_test.go).
	s := startSim(t, plexsim.Options{PlexPass: true, Linger: -1})
	sse := dialSSE(t, s, "filters=playing")
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		plexsim.RunDemoOptions(ctx, s, plexsim.DemoOptions{Seed: 7, Tick: 10 * time.Millisecond})
	}()
	defer func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			t.Error("RunDemo did not return after cancel")
		}
	}()

	waitFor(t, 2*time.Second, "the opening sessions", func() bool { return s.SessionCount() >= 3 })
	keys := func() map[string]bool {
		m := map[string]bool{}
		for _, x := range s.Sessions() {
			m[string(x.SessionKey)] = true
		}
		return m
	}
	first := keys()
	waitFor(t, 3*time.Second, "a session to end and another to start", func() bool {
		now := keys()
		ended, started := false, false
		for k := range first {
			ended = ended || !now[k]
		}
		for k := range now {
			started = started || !first[k]
		}
		return ended && started
	})
	// Terminating through the API works on demo sessions too.
	ms := s.Sessions()
	if err := newClient(t, s, testToken).Terminate(testCtx(t), string(ms[0].Session.ID), "demo"); err != nil {
		t.Errorf("Terminate on a demo session: %v", err)
	}
	for i := 0; i < 50; i++ {
		if n := s.SessionCount(); n < 2 || n > 9 {
			t.Errorf("demo has %d sessions, want 3..9 (2 right after a terminate)", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if ev := sse.next(t, 2*time.Second, true); ev.name != "playing" {
		t.Errorf("demo event = %q, want playing", ev.name)
	}
}

func TestRunDemoDeterministicCast(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // RunDemo adds the cast, then returns at once
	s := plexsim.New(plexsim.Options{})
	defer s.Close()
	plexsim.RunDemo(ctx, s, 1)
	if n := s.SessionCount(); n != len(plexsim.DemoCast()) {
		t.Errorf("sessions after RunDemo with a done context = %d, want %d", n, len(plexsim.DemoCast()))
	}
}

// TestRunDemoOpening checks the scripted arrival: at Opening a remote
// viewer starts a 4K film that is transcoded, and nothing else changes in
// between (Tick is far away) — also when the demo is at MaxSessions, and
// on another remote device when bob's browser is playing already.
func TestRunDemoOpening(t *testing.T) {
	cast := len(plexsim.DemoCast())
	tests := []struct {
		name     string
		opening  time.Duration
		max      int
		bobBusy  bool // bob's browser plays before the opening
		want     int  // sessions after the wait
		wantUser string
	}{
		{name: "scripted arrival", opening: 50 * time.Millisecond, want: cast + 1, wantUser: "bob"},
		{name: "disabled", opening: -1, want: cast},
		{name: "at MaxSessions", opening: 50 * time.Millisecond, max: cast, want: cast + 1, wantUser: "bob"},
		{name: "bob's browser busy", opening: 50 * time.Millisecond, bobBusy: true, want: cast + 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := plexsim.New(plexsim.Options{})
			defer s.Close()
			if tc.bobBusy {
				s.AddSession(plexsim.SessionSpec{User: "bob", Title: "Already", Player: plexsim.PlayerSpec{MachineID: "7a6b5c4d3e2f1a0b9c8d7e6f", Product: "Plex Web"}})
			}
			ctx, cancel := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			go func() {
				defer close(stopped)
				plexsim.RunDemoOptions(ctx, s, plexsim.DemoOptions{Seed: 3, Tick: time.Hour, Opening: tc.opening, MinSessions: 3, MaxSessions: tc.max})
			}()
			time.Sleep(300 * time.Millisecond)
			cancel()
			<-stopped
			if got := s.SessionCount(); got != tc.want {
				t.Fatalf("sessions = %d, want %d", got, tc.want)
			}
			if tc.opening < 0 {
				return
			}
			var found bool
			for _, m := range s.Sessions() {
				if m.Title != "Hollow Crown Protocol" {
					continue
				}
				found = true
				if m.TranscodeSession == nil || m.TranscodeSession.VideoDecision != "transcode" {
					t.Errorf("the arrival: transcode = %+v, want a video transcode", m.TranscodeSession)
				}
				if m.Player == nil || m.Player.Local.IsTrue() {
					t.Errorf("the arrival is local, want remote")
				}
				if tc.wantUser != "" && (m.User == nil || m.User.Title != tc.wantUser) {
					t.Errorf("the arrival's user = %+v, want %s", m.User, tc.wantUser)
				}
				if tc.bobBusy && m.Player != nil && string(m.Player.MachineIdentifier) == "7a6b5c4d3e2f1a0b9c8d7e6f" {
					t.Errorf("the arrival is on bob's busy browser: two sessions on one device")
				}
			}
			if !found {
				t.Errorf("no 4K arrival after the opening: %d sessions", s.SessionCount())
			}
		})
	}
}

// TestDemoKeepsNewSessions: a random step never ends a session younger
// than ten ticks, so the rules under demo get to act on what it shows
// (watch --demo's 4K rule has a 5 s grace; a tick is 3 s).
func TestDemoKeepsNewSessions(t *testing.T) {
	for seed := range int64(8) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			s := startSim(t, plexsim.Options{PlexPass: true, Linger: -1})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			start := time.Now()
			go plexsim.RunDemoOptions(ctx, s, plexsim.DemoOptions{Seed: seed, Tick: 10 * time.Millisecond, Opening: -1})
			waitFor(t, 2*time.Second, "the opening sessions", func() bool { return s.SessionCount() >= 6 })
			first := map[string]bool{}
			for _, m := range s.Sessions() {
				first[string(m.SessionKey)] = true
			}
			for time.Since(start) < 90*time.Millisecond { // ten ticks are 100 ms
				now := map[string]bool{}
				for _, m := range s.Sessions() {
					now[string(m.SessionKey)] = true
				}
				for k := range first {
					if !now[k] {
						t.Fatalf("session %s ended %s after the demo began, before ten ticks (100 ms)", k, time.Since(start).Round(time.Millisecond))
					}
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
}
