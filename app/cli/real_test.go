package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// TestSessionsJSONOnRealAnswer: against a server answering the published
// Plexopedia transcode example (HEVC to H.264 720p), sessions --json
// reports the source HEVC and the target H.264, and the library's answer,
// when there is one, gives the source bitrate.
func TestSessionsJSONOnRealAnswer(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("..", "..", "plex", "testdata", "real", "plexopedia-sessions-transcode.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, withLibrary := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Plex-Token") != "tok" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			switch r.URL.Path {
			case "/status/sessions":
				w.Header().Set("Content-Type", "text/xml") // this server answers XML whatever is asked
				_, _ = w.Write(body)
			case "/library/metadata/286254":
				if !withLibrary {
					http.NotFound(w, r)
					return
				}
				w.Header().Set("Content-Type", "text/xml")
				_, _ = w.Write([]byte(`<MediaContainer size="1"><Video ratingKey="286254" type="movie" title="tos-1720x720-cfg01">` +
					`<Media id="350106" videoCodec="hevc" audioCodec="ac3" videoResolution="720" height="720" bitrate="6500"/></Video></MediaContainer>`))
			default:
				http.NotFound(w, r)
			}
		}))
		code, out, errText := run(t, map[string]string{"PLEX_URL": srv.URL, "PLEX_TOKEN": "tok"}, "sessions", "--json")
		srv.Close()
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errText)
		}
		var got []map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
			t.Fatalf("output %s: %v", out, err)
		}
		s := got[0]
		want := map[string]any{"decision": "transcode", "sourceVideoCodec": "hevc", "targetVideoCodec": "h264", "sourceAudioCodec": "ac3",
			"targetAudioCodec": "aac", "sourceResolution": "720p", "targetResolution": "720p", "sourceKnown": withLibrary}
		if withLibrary {
			want["bitrateKbps"] = 6500.0
		}
		for k, v := range want {
			if s[k] != v {
				t.Errorf("library %v: %s = %#v, want %#v", withLibrary, k, s[k], v)
			}
		}
		if !withLibrary {
			if _, ok := s["bitrateKbps"]; ok {
				t.Errorf("without the library: bitrateKbps %v, want it absent (unknown), not the output's", s["bitrateKbps"])
			}
		}
	}
}
