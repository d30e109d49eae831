package app

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app/local"
	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// Hub.LocalLive is the one answer to "which keys does Plex still own":
// playback sessions plus every job of /transcode/sessions (a sync job is
// only there). A server whose address is not this computer's gives
// ErrNoLocalServer with its own view of its transcodes, unless assumed
// local.
func TestHubLocalLive(t *testing.T) {
	sim := startSim(t, plexsim.Options{PlexPass: true})
	alice := sim.AddSession(plexsim.SessionSpec{User: "alice", Transcode: &plexsim.TranscodeSpec{Video: "transcode", Throttled: true}})
	syncKey := sim.AddJob(plexsim.JobSpec{Progress: 42})
	sim.SetTranscoderTempDir("/dev/shm/plex")
	c, err := plex.NewClient(sim.URL(), simToken, plex.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.HTTPClient().CloseIdleConnections()

	tests := []struct {
		name       string
		url        string // the address the monitor shows
		assume     bool
		wantRemote bool
	}{
		{"server on this computer", sim.URL(), false, false},
		{"server elsewhere", "http://192.0.2.9:32400", false, true},
		{"server elsewhere, assumed local", "http://192.0.2.9:32400", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			h := NewHub()
			defer func() { cancel(); h.Wait() }()
			h.Start(ctx, NewMonitor(MonitorConfig{Server: "home", URL: tt.url, Source: c, Reconcile: time.Hour}), c)
			deadline := time.Now().Add(5 * time.Second)
			for h.State().Servers[0].Conn.Status != Connected || len(h.State().Sessions()) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the monitor did not connect")
				}
				time.Sleep(10 * time.Millisecond)
			}
			live, err := h.LocalLive(tt.assume).Live(ctx)
			if tt.wantRemote {
				var ee *local.ElsewhereError
				if !errors.Is(err, local.ErrNoLocalServer) || !errors.As(err, &ee) {
					t.Fatalf("Live = %v, %v; want ErrNoLocalServer with the remote jobs", live, err)
				}
				want := []local.RemoteJob{
					{Server: "home", Key: alice.TranscodeKey, Context: "streaming", Video: "transcode", Speed: 1.5, Throttled: true},
					{Server: "home", Key: syncKey, Context: "static", Video: "transcode", Speed: 2, Progress: 42},
				}
				for i := range ee.Jobs {
					ee.Jobs[i].Progress = float64(int(ee.Jobs[i].Progress)) // the sim's playback advances
				}
				want[0].Progress = ee.Jobs[0].Progress
				if !slices.Equal(ee.Jobs, want) {
					t.Errorf("remote jobs = %+v\nwant %+v", ee.Jobs, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Live: %v", err)
			}
			keys := map[string]string{}
			for _, j := range live.Transcodes {
				keys[j.Key] = j.Context
			}
			if keys[alice.TranscodeKey] != "streaming" || keys[syncKey] != "static" || len(keys) != 2 {
				t.Errorf("owned keys = %v, want alice's (streaming) and the sync job's (static)", keys)
			}
			if want := []string{"/dev/shm/plex/Transcode/Sessions"}; !slices.Equal(live.SessionDirs, want) {
				t.Errorf("session folders = %v, want %v (from the server's TranscoderTempDirectory)", live.SessionDirs, want)
			}
			if len(live.Sessions) != 1 || live.Sessions[0].User != "alice" || live.Sessions[0].TranscodeKey != alice.TranscodeKey {
				t.Errorf("sessions = %+v, want alice's", live.Sessions)
			}
		})
	}
}
