package plex_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"testing"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// sessionsBody renders n simulated sessions the way the simulator (and a
// real server) sends them: JSON or XML.
func sessionsBody(b *testing.B, n int, asXML bool) []byte {
	b.Helper()
	sim := plexsim.New(plexsim.Options{})
	for i := range n {
		spec := plexsim.SessionSpec{User: fmt.Sprintf("user%d", i%40), Type: "episode", Show: "Show", Season: 1, Episode: i%20 + 1, Title: "Episode",
			Resolution: "4k", VideoCodec: "hevc", Player: plexsim.PlayerSpec{Product: "Plex Web", Platform: "Chrome"}}
		if i%3 == 0 {
			spec.Transcode = &plexsim.TranscodeSpec{Video: "transcode", Audio: "copy", HW: true}
		}
		sim.AddSession(spec)
	}
	items := sim.Sessions()
	c := plex.Container{Size: plex.Int(len(items)), Metadata: items}
	var out []byte
	var err error
	if asXML {
		out, err = xml.Marshal(c)
	} else {
		out, err = json.Marshal(map[string]any{"MediaContainer": c})
	}
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkDecodeSessions decodes /status/sessions answers of 10, 100 and
// 1,000 sessions in both formats and classifies every session, as the
// monitor does on each fetch.
func BenchmarkDecodeSessions(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		for _, format := range []string{"json", "xml"} {
			body := sessionsBody(b, n, format == "xml")
			b.Run(fmt.Sprintf("%s/%d", format, n), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					items, err := plex.DecodeSessions(body)
					if err != nil || len(items) != n {
						b.Fatalf("got %d items, %v", len(items), err)
					}
					for i := range items {
						_ = plex.Classify(&items[i])
					}
				}
			})
		}
	}
}

// BenchmarkParseEvent is the per-event cost of the feed's decoding.
func BenchmarkParseEvent(b *testing.B) {
	data := []byte(`{"PlaySessionStateNotification":{"sessionKey":"12","clientIdentifier":"abc","key":"/library/metadata/5012","ratingKey":"5012","viewOffset":61000,"state":"playing","transcodeSession":"tc1"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := plex.ParseEvent("playing", data); err != nil {
			b.Fatal(err)
		}
	}
}
