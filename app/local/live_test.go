package local

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// startSim starts a simulated Plex server on 127.0.0.1 and returns it with
// a LiveSource asking it.
func startSim(t *testing.T) (*plexsim.Server, LiveSource) {
	t.Helper()
	sim := plexsim.New(plexsim.Options{Token: "tok", PlexPass: true})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return startSimSource(t, sim)
}

// startSimSource returns a LiveSource asking the running sim.
func startSimSource(t testing.TB, sim *plexsim.Server) (*plexsim.Server, LiveSource) {
	t.Helper()
	c, err := plex.NewClient(sim.URL(), "tok", plex.ClientInfo{ID: "localtest"}, plex.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return sim, ClientSource{API: c, Server: "sim"}
}

func TestClientSource(t *testing.T) {
	sim, src := startSim(t)
	ref := sim.AddSession(plexsim.SessionSpec{User: "alice", Title: "Night Harbor",
		Player:    plexsim.PlayerSpec{Title: "Living Room", Product: "Plex for Roku"},
		Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	sim.AddSession(plexsim.SessionSpec{User: "bob", Title: "Direct"})
	job := sim.AddJob(plexsim.JobSpec{Speed: 3})
	live, err := src.Live(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(live.Sessions) != 2 {
		t.Fatalf("sessions = %+v, want 2", live.Sessions)
	}
	var alice Session
	for _, s := range live.Sessions {
		if s.User == "alice" {
			alice = s
		}
	}
	want := Session{Server: "sim", SessionKey: ref.Key, ID: ref.ID, User: "alice", Title: "Night Harbor",
		Player: "Living Room", Product: "Plex for Roku", State: "playing", TranscodeKey: ref.TranscodeKey, Context: alice.Context, Speed: 1.5}
	if alice != want {
		t.Errorf("alice = %+v\nwant    %+v", alice, want)
	}
	wantJobs := []LiveTranscode{{Key: ref.TranscodeKey, Context: "streaming", Speed: 1.5}, {Key: job, Context: "static", Speed: 3}}
	if !slices.Equal(live.Transcodes, wantJobs) {
		t.Errorf("transcodes = %+v, want %+v (the sync job only /transcode/sessions lists too)", live.Transcodes, wantJobs)
	}

	sim.Close()
	if _, err := src.Live(context.Background()); err == nil {
		t.Error("Live of a closed server: no error")
	}
}

func TestLink(t *testing.T) {
	live := &Live{
		Sessions: []Session{
			{User: "alice", TranscodeKey: "k1", State: "playing"},
			{User: "bob", TranscodeKey: "gone1"},                            // no process: stale
			{User: "carol", TranscodeKey: "done1", TranscodeComplete: true}, // finished: not stale
			{User: "dave"}, // direct play
		},
		Transcodes: []LiveTranscode{{Key: "k1"}, {Key: "sync1", Context: "static"}, {Key: "gone2"}, {Key: "done2", Complete: true}, {Key: "gone1"}},
	}
	procs := func() []Transcoder {
		return []Transcoder{
			{PID: 1, Kind: KindPlex, Key: "k1"},
			{PID: 2, Kind: KindPlex, Key: "sync1"},
			{PID: 3, Kind: KindPlex, Key: "old"},
			{PID: 4, Kind: KindPlex, Cwd: "/c/PlexCreditsDetection/x"},
			{PID: 5, Kind: KindFFmpeg},
			{PID: 6, Kind: KindFFmpeg, Key: "k1"},
			{PID: 7, Kind: KindPlex, Key: "k2", Cwd: "/c/PlexCreditsDetection/y"},
		}
	}
	tests := []struct {
		name      string
		live      *Live
		asked     bool
		err       error
		wantLinks []LinkStatus
		wantStale []string
	}{
		{"linked", live, true, nil,
			[]LinkStatus{LinkLinked, LinkLinked, LinkOrphan, LinkBackground, LinkExternal, LinkLinked, LinkBackground},
			[]string{"gone1", "gone2"}},
		{"not asked", nil, false, nil,
			[]LinkStatus{LinkKeyOnly, LinkKeyOnly, LinkKeyOnly, LinkBackground, LinkExternal, LinkKeyOnly, LinkBackground}, nil},
		{"plex unreachable", nil, true, errors.New("refused"),
			[]LinkStatus{LinkUnknown, LinkUnknown, LinkUnknown, LinkBackground, LinkExternal, LinkUnknown, LinkBackground}, nil},
		{"empty server", &Live{}, true, nil,
			[]LinkStatus{LinkOrphan, LinkOrphan, LinkOrphan, LinkBackground, LinkExternal, LinkOrphan, LinkBackground}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := procs()
			stale := link(ts, tt.live, tt.asked, tt.err)
			var links []LinkStatus
			for _, p := range ts {
				links = append(links, p.Link)
			}
			if !reflect.DeepEqual(links, tt.wantLinks) {
				t.Errorf("links = %v, want %v", links, tt.wantLinks)
			}
			var keys []string
			for _, s := range stale {
				keys = append(keys, s.Key)
			}
			if !reflect.DeepEqual(keys, tt.wantStale) {
				t.Errorf("stale = %v, want %v", keys, tt.wantStale)
			}
		})
	}
	ts := procs()
	stale := link(ts, live, true, nil)
	if s := ts[0].Session; s == nil || s.User != "alice" {
		t.Errorf("PID 1 session = %+v, want alice's", s)
	}
	if s := ts[1].Session; s == nil || s.Context != "static" || s.Who() != "sync / download job" {
		t.Errorf("PID 2 session = %+v, want the sync job", s)
	}
	if ts[3].Job != "credits detection" {
		t.Errorf("PID 4 job = %q, want credits detection", ts[3].Job)
	}
	if stale[0].Session == nil || stale[0].Session.User != "bob" || stale[1].Session != nil {
		t.Errorf("stale sessions = %+v, want bob's then a bare key", stale)
	}
}

func TestIsLocalServer(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:32400", true},
		{"127.0.0.1:32400", true},
		{"http://localhost:32400", true},
		{"http://[::1]:32400", true},
		{"https://127-0-0-1.0123456789abcdef.plex.direct:32400", true},
		{"http://192.0.2.7:32400", false}, // TEST-NET-1: never ours
		{"https://192-0-2-7.0123456789abcdef.plex.direct:32400", false},
		{"http://plex.example.com:32400", false},
		{"ftp://x", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsLocalServer(tt.url); got != tt.want {
			t.Errorf("IsLocalServer(%q) = %v, want %v", tt.url, got, tt.want)
		}
	}
}
