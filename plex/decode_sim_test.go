package plex_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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

// TestLargeBrokenAnswerFailsCleanly: a large answer (its JSON check runs
// beside the walk) that is not valid JSON is refused as malformed, never
// decoded in part, and the walk over it ends.
func TestLargeBrokenAnswerFailsCleanly(t *testing.T) {
	sim := plexsim.New(plexsim.Options{})
	for i := range 200 {
		sim.AddSession(plexsim.SessionSpec{User: fmt.Sprintf("user%d", i%9), Title: fmt.Sprintf("Film %d", i)})
	}
	good := simAnswer(t, sim, true)
	if len(good) < 128<<10 {
		t.Fatalf("answer of %d bytes: too small for the parallel check", len(good))
	}
	if items, err := plex.DecodeSessions(good); err != nil || len(items) != 200 {
		t.Fatalf("valid answer: %d items, %v; want 200, nil", len(items), err)
	}
	mid := len(good) / 2
	tests := []struct {
		name string
		body []byte
	}{
		{"cut in the middle", good[:mid]},
		{"cut before the last brace", bytes.TrimSpace(good)[:len(bytes.TrimSpace(good))-1]},
		{"a quote removed", append(append([]byte{}, good[:bytes.IndexByte(good[mid:], '"')+mid]...), good[bytes.IndexByte(good[mid:], '"')+mid+1:]...)},
		{"a brace turned into a bracket", bytes.Replace(good, []byte("}"), []byte("]"), 1)},
		{"a NUL byte in the middle", append(append(append([]byte{}, good[:mid]...), 0), good[mid:]...)},
		{"garbage after the answer", append(append([]byte{}, good...), []byte(`{"x":1}`)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type result struct {
				n   int
				err error
			}
			done := make(chan result, 1)
			go func() {
				items, err := plex.DecodeSessions(tt.body)
				done <- result{len(items), err}
			}()
			select {
			case r := <-done:
				if !errors.Is(r.err, plex.ErrMalformed) || r.n != 0 {
					t.Errorf("got %d items, err %v; want none and ErrMalformed", r.n, r.err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("decoding did not end")
			}
		})
	}
}
