package diag_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/diag"
	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// rig is a simulated server followed by a real monitor (client, SSE feed)
// whose updates feed a detector, as the app wires them.
type rig struct {
	sim *plexsim.Server
	det *diag.Detector

	mu    sync.Mutex
	found []diag.Finding
}

// sensitive options make the simulator scenarios short: a storm is more
// than 6 new transcodes or sessions within 30 s. The negative scenarios run
// with the same options, so they show the detector tells them apart at a
// far lower threshold than the default.
var sensitive = diag.Options{StormSessions: 6, StormTranscodes: 6, StormWindow: 30 * time.Second}

func startRig(t *testing.T, opts diag.Options) *rig {
	t.Helper()
	sim := plexsim.New(plexsim.Options{Token: "sim-token", PlexPass: true, PingInterval: 100 * time.Millisecond})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := plex.NewClient(sim.URL(), "sim-token", plex.ClientInfo{ID: "diag-test"},
		plex.WithHTTPClient(&http.Client{Transport: tr}), plex.WithTimeout(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	feed := c.NewFeed(nil)
	feed.MinBackoff, feed.MaxBackoff = 20*time.Millisecond, 100*time.Millisecond
	mon := app.NewMonitor(app.MonitorConfig{Server: "sim", URL: c.BaseURL(), Source: c, Feed: feed, Reconcile: time.Hour, Coalesce: 20 * time.Millisecond})
	r := &rig{sim: sim, det: diag.New(opts)}
	mon.Subscribe(func(up app.Update) {
		if fs := r.det.Observe(up); len(fs) > 0 {
			r.mu.Lock()
			r.found = append(r.found, fs...)
			r.mu.Unlock()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	done := make(chan error, 1)
	go func() { done <- mon.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("monitor did not stop")
		}
	})
	waitFor(t, "the monitor to connect", func() bool { return mon.Snapshot().Conn.Status == app.Connected })
	return r
}

func (r *rig) findings() []diag.Finding {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.found)
}

// seen reports whether the detector's timeline of playerID has an entry of
// kind for sessionKey.
func (r *rig) seen(playerID string, kind diag.EntryKind, sessionKey string) bool {
	for _, e := range r.det.Timeline("sim", playerID) {
		if e.Event == kind && e.SessionKey == sessionKey {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle gives the monitor time to publish anything still in flight.
func settle() { time.Sleep(300 * time.Millisecond) }

const sharedID = "rivulet-7f3a9c2e41d8"

func TestSimMusicReplacesVideo(t *testing.T) {
	r := startRig(t, sensitive)
	player := plexsim.PlayerSpec{MachineID: sharedID, Product: "Rivulet", Platform: "tvOS", Device: "Apple TV", Title: "Living Room"}
	video := r.sim.AddSession(plexsim.SessionSpec{User: "alice", Type: "movie", Title: "Inception", Player: player,
		Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}})
	waitFor(t, "the film", func() bool { return r.seen(sharedID, diag.EntryStart, video.Key) })

	// The app's music player asks for a track with the video player's id:
	// Plex stops the film and plays the track.
	if err := r.sim.EndSession(video.Key); err != nil {
		t.Fatal(err)
	}
	music := r.sim.AddSession(plexsim.SessionSpec{User: "alice", Type: "track", Title: "Blue in Green", Show: "Miles Davis", Player: player})
	waitFor(t, "a collision", func() bool { return len(r.findings()) > 0 })
	settle()

	fs := r.findings()
	if len(fs) != 1 {
		t.Fatalf("findings = %q, want one collision\n%s", brief(fs), summaries(fs))
	}
	c := fs[0]
	if c.Kind != diag.KindCollision || c.Cause != diag.CauseReplaced || c.Server != "sim" || c.PlayerID != sharedID || c.User != "alice" {
		t.Errorf("finding = %+v, want alice's replaced collision on %s", c, sharedID)
	}
	if len(c.Evidence) != 2 {
		t.Fatalf("evidence = %+v, want two sessions", c.Evidence)
	}
	e, s := c.Evidence[0], c.Evidence[1]
	if e.Role != diag.RoleEnded || e.SessionKey != video.Key || e.SessionID != video.ID || e.Type != "movie" || e.TranscodeKey != video.TranscodeKey || e.Product != "Rivulet" {
		t.Errorf("ended evidence = %+v, want the film %+v", e, video)
	}
	if s.Role != diag.RoleStarted || s.SessionKey != music.Key || s.SessionID != music.ID || s.Type != "track" || s.Product != "Rivulet" {
		t.Errorf("started evidence = %+v, want the track %+v", s, music)
	}
	if gap := s.Time.Sub(e.Time); gap < 0 || gap > 2*time.Second {
		t.Errorf("gap between end and start = %s, want within the 2 s window", gap)
	}
	if len(r.det.Active()) != 1 {
		t.Errorf("Active = %q, want the collision", brief(r.det.Active()))
	}
}

func TestSimTranscodeStorm(t *testing.T) {
	tests := []struct {
		name    string
		restart func(sim *plexsim.Server, key string) (string, error) // returns the session key to go on with
	}{
		{"seek loop", func(sim *plexsim.Server, key string) (string, error) {
			return key, sim.Seek(key, 60_000)
		}},
		{"stop and start the transcoder", func(sim *plexsim.Server, key string) (string, error) {
			if err := sim.StopTranscodeOf(key); err != nil {
				return key, err
			}
			_, err := sim.StartTranscode(key, plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode})
			return key, err
		}},
		{"end and start a session", func(sim *plexsim.Server, key string) (string, error) {
			if err := sim.EndSession(key); err != nil {
				return key, err
			}
			return sim.AddSession(stormSpec()).Key, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := startRig(t, sensitive)
			key := r.sim.AddSession(stormSpec()).Key
			waitFor(t, "the session", func() bool { return r.seen("broken-client", diag.EntryStart, key) })
			deadline := time.Now().Add(15 * time.Second)
			for len(r.findings()) == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("no storm after 15 s; timeline: %+v", r.det.Timeline("sim", "broken-client"))
				}
				time.Sleep(500 * time.Millisecond)
				var err error
				if key, err = tt.restart(r.sim, key); err != nil {
					t.Fatal(err)
				}
			}
			settle()
			fs := r.findings()
			if len(fs) != 1 {
				t.Fatalf("findings = %q, want one storm\n%s", brief(fs), summaries(fs))
			}
			s := fs[0]
			if s.Kind != diag.KindStorm || s.Cause != diag.CausePlayer || s.PlayerID != "broken-client" || s.User != "bob" {
				t.Errorf("finding = %+v, want bob's broken-client storming", s)
			}
			if s.Counts.Transcodes <= 6 && s.Counts.Sessions <= 6 {
				t.Errorf("counts = %+v, want more than 6 of either", s.Counts)
			}
			if len(s.Timeline) < 7 || len(s.Evidence) == 0 {
				t.Errorf("timeline %v / evidence %+v, want the counted events", s.Timeline, s.Evidence)
			}
			if !r.det.Storming("sim", "broken-client") || !r.det.StormingUser("sim", "bob") {
				t.Error("Storming / StormingUser = false during the storm")
			}
		})
	}
}

func stormSpec() plexsim.SessionSpec {
	return plexsim.SessionSpec{User: "bob", Title: "Big Buck Bunny",
		Player:    plexsim.PlayerSpec{MachineID: "broken-client", Product: "Plex for Smart TVs", Device: "Tizen TV"},
		Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}}
}

func TestSimNotFlagged(t *testing.T) {
	tv := plexsim.PlayerSpec{MachineID: "roku-living-room", Product: "Plex for Roku", Platform: "Roku", Device: "Roku Ultra"}
	phone := plexsim.PlayerSpec{MachineID: "alice-iphone", Product: "Plex for iOS", Platform: "iOS", Device: "iPhone"}
	tests := []struct {
		name string
		run  func(t *testing.T, r *rig) (playerID, lastKey string)
	}{
		{"next episode", func(t *testing.T, r *rig) (string, string) {
			ep := func(n int) plexsim.SessionSpec {
				return plexsim.SessionSpec{User: "alice", Type: "episode", Show: "The Long Orbit", Season: 1, Episode: n, Title: "Part", Player: tv,
					Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}}
			}
			one := r.sim.AddSession(ep(1))
			waitFor(t, "episode 1", func() bool { return r.seen(tv.MachineID, diag.EntryStart, one.Key) })
			if err := r.sim.EndSession(one.Key); err != nil {
				t.Fatal(err)
			}
			return tv.MachineID, r.sim.AddSession(ep(2)).Key
		}},
		{"two players of one user", func(t *testing.T, r *rig) (string, string) {
			film := r.sim.AddSession(plexsim.SessionSpec{User: "alice", Type: "movie", Title: "Inception", Player: tv})
			song := r.sim.AddSession(plexsim.SessionSpec{User: "alice", Type: "track", Title: "So What", Player: phone})
			waitFor(t, "both", func() bool {
				return r.seen(tv.MachineID, diag.EntryStart, film.Key) && r.seen(phone.MachineID, diag.EntryStart, song.Key)
			})
			// The film ends on the TV as the phone moves to another song
			// (Plex stops the phone's first song as the next one starts: a
			// player replacing its own session is no collision).
			if err := r.sim.EndSession(film.Key); err != nil {
				t.Fatal(err)
			}
			return phone.MachineID, r.sim.AddSession(plexsim.SessionSpec{User: "alice", Type: "track", Title: "Blue in Green", Player: phone}).Key
		}},
		{"a seek restarts the transcoder", func(t *testing.T, r *rig) (string, string) {
			ref := r.sim.AddSession(plexsim.SessionSpec{User: "alice", Title: "Inception", Player: tv,
				Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}})
			waitFor(t, "the film", func() bool { return r.seen(tv.MachineID, diag.EntryStart, ref.Key) })
			if err := r.sim.Seek(ref.Key, 3_600_000); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the restart", func() bool {
				n := 0
				for _, e := range r.det.Timeline("sim", tv.MachineID) {
					if e.Event == diag.EntryTranscode {
						n++
					}
				}
				return n == 2
			})
			return tv.MachineID, ref.Key
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := startRig(t, sensitive)
			player, last := tt.run(t, r)
			waitFor(t, "the last session", func() bool { return r.seen(player, diag.EntryStart, last) })
			settle()
			if fs := r.findings(); len(fs) != 0 {
				t.Errorf("findings = %q, want none\n%s", brief(fs), summaries(fs))
			}
			if act := r.det.Active(); len(act) != 0 {
				t.Errorf("Active = %q, want none", brief(act))
			}
		})
	}
}
