package plex_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// simAnswer is the simulator's /status/sessions answer, as JSON or XML.
func simAnswer(t *testing.T, sim *plexsim.Server, asJSON bool) []byte {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/status/sessions", nil)
	req.Header.Set("X-Plex-Token", "token")
	if asJSON {
		req.Header.Set("Accept", "application/json")
	}
	rec := httptest.NewRecorder()
	sim.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("simulator answered %d", rec.Code)
	}
	b, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFastPathsAgreeOnSimulator compares the fast decoders with
// encoding/json and encoding/xml on the simulator's answers, from none to
// many sessions of every kind, and checks that the fast paths decode them
// (so that the benchmark measures them).
func TestFastPathsAgreeOnSimulator(t *testing.T) {
	sim := plexsim.New(plexsim.Options{})
	check := func(stage string) {
		for _, asJSON := range []bool{true, false} {
			if !plex.CompareDecodersForTest(t, simAnswer(t, sim, asJSON)) {
				t.Errorf("%s (json %v): not decoded by the fast path", stage, asJSON)
			}
		}
		// With the fields a real server adds, "Guid" beside "guid" among them.
		if !plex.CompareDecodersForTest(t, withPlexExtras(t, simAnswer(t, sim, true))) {
			t.Errorf("%s (json with extras): not decoded by the fast path", stage)
		}
	}
	check("no sessions")
	for _, spec := range plexsim.DemoCast() {
		sim.AddSession(spec)
	}
	check("demo cast")
	for i := range 60 {
		spec := plexsim.SessionSpec{
			User: fmt.Sprintf("user%d", i%7), Type: []string{"movie", "episode", "track", "clip"}[i%4],
			Show: "Show", Season: 1, Episode: i%20 + 1, Title: fmt.Sprintf("Title \"%d\" <&> é", i),
			Resolution: []string{"4k", "1080", "720", "sd"}[i%4], VideoCodec: []string{"hevc", "h264", "av1"}[i%3],
			Player: plexsim.PlayerSpec{Product: "Plex Web", Platform: "Chrome", Title: "Room\t" + fmt.Sprint(i)},
			Local:  i%2 == 0, State: []string{"playing", "paused", "buffering"}[i%3],
			Subtitles: []string{"", "srt", "pgs"}[i%3],
		}
		switch i % 5 {
		case 1:
			spec.Transcode = &plexsim.TranscodeSpec{Video: "transcode", Audio: "copy", HW: true}
		case 2:
			spec.Transcode = &plexsim.TranscodeSpec{Video: "copy", Audio: "transcode", Subtitle: "burn", Throttled: true}
		case 3:
			spec.Transcode = &plexsim.TranscodeSpec{Video: "copy", Audio: "copy"}
		}
		sim.AddSession(spec)
	}
	check("many sessions")
	sim.Advance(90e9)
	check("later")
}
