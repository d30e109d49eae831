package plex_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"
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

// withPlexExtras adds to every item of a JSON answer the fields a real
// server sends and Plex Warden never reads (artwork, summary, dates,
// ratings, and Genre/Director/Writer/Role/Guid/Rating tag arrays): about
// 2.5 KB per item, so that skipping is measured too. "Guid" is an array
// beside the "guid" string, as Plex sends it.
func withPlexExtras(b testing.TB, body []byte) []byte {
	b.Helper()
	var doc map[string]map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		b.Fatal(err)
	}
	tags := func(kind string, n int) []map[string]any {
		var out []map[string]any
		for i := range n {
			t := map[string]any{"id": 1000 + i, "filter": fmt.Sprintf("%s=%d", kind, 1000+i), "tag": fmt.Sprintf("%s name %d", kind, i)}
			if kind == "actor" {
				t["role"] = fmt.Sprintf("Character %d", i)
				t["thumb"] = fmt.Sprintf("https://metadata-static.plex.tv/people/%032x.jpg", i)
			}
			out = append(out, t)
		}
		return out
	}
	items, _ := doc["MediaContainer"]["Metadata"].([]any)
	for _, item := range items {
		m := item.(map[string]any)
		m["thumb"] = "/library/metadata/40200/thumb/1700000000"
		m["art"] = "/library/metadata/40198/art/1700000000"
		m["parentThumb"] = "/library/metadata/40199/thumb/1700000000"
		m["grandparentThumb"] = "/library/metadata/40198/thumb/1700000000"
		m["summary"] = strings.Repeat("A summary of the episode, as long as Plex's usually are. ", 8)
		m["contentRating"] = "TV-14"
		m["audienceRating"] = 7.4
		m["addedAt"] = 1690000000
		m["updatedAt"] = 1700000000
		m["originallyAvailableAt"] = "2023-04-05"
		m["Genre"] = tags("genre", 2)
		m["Director"] = tags("director", 1)
		m["Writer"] = tags("writer", 1)
		m["Role"] = tags("actor", 8)
		m["Guid"] = []map[string]any{{"id": "imdb://tt1234567"}, {"id": "tmdb://12345"}, {"id": "tvdb://67890"}}
		m["Rating"] = []map[string]any{{"image": "imdb://image.rating", "value": 7.9, "type": "audience"}}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkDecodeSessions decodes /status/sessions answers of 10, 100 and
// 1,000 sessions in both formats and classifies every session, as the
// monitor does on each fetch. json+extras is the JSON answer with the
// fields a real server adds (withPlexExtras).
func BenchmarkDecodeSessions(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		for _, format := range []string{"json", "xml", "json+extras"} {
			if format == "json+extras" && n != 1000 {
				continue
			}
			body := sessionsBody(b, n, format == "xml")
			if format == "json+extras" {
				body = withPlexExtras(b, body)
			}
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
