package plexsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// The invariants below are read off answers published from real servers
// (plex/testdata/real, SOURCES.md). Each is checked on those answers and
// on the simulator's, so plexsim cannot drift from real Plex on what
// decides a kill.

// outputInvariant: while video is transcoded, the item's Media and video
// Stream carry the OUTPUT codec (the TranscodeSession's videoCodec), the
// Media keeps an id, and the stream's displayTitle names the source codec
// (TranscodeSession.sourceVideoCodec).
func outputInvariant(t *testing.T, what string, m *plex.Metadata) {
	t.Helper()
	ts := m.TranscodeSession
	if ts == nil || ts.VideoDecision != "transcode" {
		t.Fatalf("%s: not a video transcode", what)
	}
	md, vs := m.SelectedMedia(), m.SelectedStream(plex.StreamVideo)
	if md == nil || vs == nil {
		t.Fatalf("%s: no Media or video Stream", what)
	}
	if md.VideoCodec != ts.VideoCodec || vs.Codec != ts.VideoCodec {
		t.Errorf("%s: Media/Stream codec %q/%q, want the output's %q", what, md.VideoCodec, vs.Codec, ts.VideoCodec)
	}
	if md.VideoCodec == ts.SourceVideoCodec {
		t.Errorf("%s: Media codec %q is the source's, want the output's", what, md.VideoCodec)
	}
	if _, codec := plex.ParseDisplayTitle(vs.DisplayTitle); codec != ts.SourceVideoCodec {
		t.Errorf("%s: displayTitle %q names %q, want the source %q", what, vs.DisplayTitle, codec, ts.SourceVideoCodec)
	}
	if md.ID == "" {
		t.Errorf("%s: Media without id: the version played cannot be found in /library/metadata", what)
	}
}

func TestOutputInvariantOnRealAnswers(t *testing.T) {
	for _, f := range []string{"plexopedia-sessions-transcode.xml", "appliance-pms1.43-sessions-hw-transcode.json"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "real", f))
		if err != nil {
			t.Fatal(err)
		}
		items, err := plex.DecodeSessions(b)
		if err != nil || len(items) != 1 {
			t.Fatalf("%s: %d items, %v", f, len(items), err)
		}
		outputInvariant(t, f, &items[0])
	}
}

// TestSimTranscodeSpeaksRealPlex: a 4K HEVC film transcoded to 1080p H.264
// is listed as its output, and its source is only in /library/metadata,
// TranscodeSession.source* and the displayTitle: judged on the list alone,
// the resolution of the source is the displayTitle's; with the library's
// answer, the bitrate too.
func TestSimTranscodeSpeaksRealPlex(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	ref := s.AddSession(plexsim.SessionSpec{Title: "Dune", Resolution: "4k", VideoCodec: "hevc", AudioCodec: "eac3", BitrateKbps: 30000,
		Versions:  []plexsim.VersionSpec{{Resolution: "1080", VideoCodec: "h264", BitrateKbps: 8000}},
		Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode, TargetHeight: 1080}})
	for _, format := range []string{"json", "xml"} {
		var c source = newClient(t, s, testToken)
		if format == "xml" {
			c = xmlSource{t, s}
		}
		items, err := c.Sessions(testCtx(t))
		if err != nil || len(items) != 1 {
			t.Fatalf("%s: Sessions: %d, %v", format, len(items), err)
		}
		m := &items[0]
		outputInvariant(t, "plexsim "+format, m)
		if md := m.SelectedMedia(); md.VideoResolution != "1080p" || md.Bitrate >= 30000 {
			t.Errorf("%s: Media %s at %d kbps, want the 1080p output below the source's 30000", format, md.VideoResolution, md.Bitrate)
		}
		alone := plex.Classify(m)
		if alone.SourceResolution != "4K" || alone.SourceVideoCodec != "hevc" || alone.TargetResolution != "1080p" || alone.BitrateKbps != 0 {
			t.Errorf("%s: from the list alone: source %s %s %d kbps → %s; want 4K hevc, unknown bitrate → 1080p",
				format, alone.SourceResolution, alone.SourceVideoCodec, alone.BitrateKbps, alone.TargetResolution)
		}
		item, err := c.Metadata(testCtx(t), string(m.RatingKey))
		if err != nil {
			t.Fatalf("%s: Metadata: %v", format, err)
		}
		if len(item.Media) != 2 {
			t.Fatalf("%s: /library/metadata lists %d versions, want 2", format, len(item.Media))
		}
		src := plex.SourceMedia(m, item)
		if src == nil || src.VideoResolution != "4k" || src.Bitrate != 30000 {
			t.Fatalf("%s: SourceMedia = %+v, want the 4K version at 30000 kbps (not the 1080p one listed first)", format, src)
		}
		full := plex.ClassifySource(m, src)
		if full.SourceResolution != "4K" || full.BitrateKbps != 30000 || full.TargetVideoCodec != "h264" || full.SourceAudioCodec != "eac3" {
			t.Errorf("%s: with metadata: %+v", format, full)
		}
	}
	if _, err := newClient(t, s, testToken).Metadata(testCtx(t), "999999"); err == nil {
		t.Error("Metadata of an unknown item: no error")
	}
	_ = ref
}

// TestSimLingerAndReplace: a terminated session stays listed a few
// seconds; a player that replays (or moves to the next episode) starts a
// new session while the old one is still listed.
func TestSimLingerAndReplace(t *testing.T) {
	clk := &manualClock{t: time.Unix(1_700_000_000, 0)}
	s := startSim(t, plexsim.Options{Clock: clk.Now, PlexPass: true})
	a := s.AddSession(plexsim.SessionSpec{User: "carol", Player: plexsim.PlayerSpec{MachineID: "tv-1"}, Type: "episode", Show: "Show", Title: "One",
		Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}})
	c := newClient(t, s, testToken)
	if err := c.Terminate(testCtx(t), a.ID, "bye"); err != nil {
		t.Fatal(err)
	}
	items, _ := c.Sessions(testCtx(t))
	if len(items) != 1 || s.SessionCount() != 0 {
		t.Fatalf("after terminate: %d listed, %d playing; want 1 listed (lingering), 0 playing", len(items), s.SessionCount())
	}
	clk.Add(plexsim.DefaultLinger)
	if items, _ := c.Sessions(testCtx(t)); len(items) != 0 {
		t.Fatalf("after the linger: %d listed, want 0", len(items))
	}

	b := s.AddSession(plexsim.SessionSpec{User: "carol", Player: plexsim.PlayerSpec{MachineID: "tv-1"}, Type: "episode", Show: "Show", Title: "Two", Episode: 2})
	next, err := s.NextEpisode(b.Key)
	if err != nil {
		t.Fatal(err)
	}
	items, _ = c.Sessions(testCtx(t))
	if len(items) != 2 || string(items[0].SessionKey) != b.Key || string(items[1].SessionKey) != next.Key {
		t.Fatalf("next episode: listed %d, want the old %s and the new %s", len(items), b.Key, next.Key)
	}
	if items[0].Player.MachineIdentifier != items[1].Player.MachineIdentifier || items[1].Index != 3 || items[0].RatingKey == items[1].RatingKey {
		t.Errorf("next episode: players %s/%s, episode %d; want one player, episode 3, another item", items[0].Player.MachineIdentifier, items[1].Player.MachineIdentifier, items[1].Index)
	}
}

// TestSimMissingFields: sessions without Session.location and
// Player.local, and players without a Session id.
func TestSimMissingFields(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	s.AddSession(plexsim.SessionSpec{Title: "A", NoLocation: true, Address: "10.0.0.5"})
	s.AddSession(plexsim.SessionSpec{Type: "track", Title: "B", NoSessionID: true, Local: true})
	for _, c := range []source{newClient(t, s, testToken), xmlSource{t, s}} {
		items, err := c.Sessions(testCtx(t))
		if err != nil || len(items) != 2 {
			t.Fatalf("Sessions: %d, %v", len(items), err)
		}
		if m := items[0]; m.Session.Location != "" || m.Player.Local.Known() || plex.Location(&m) != "" {
			t.Errorf("no location: Session.location %q, Player.local %v, Location %q; want all unknown", m.Session.Location, m.Player.Local, plex.Location(&m))
		}
		if m := items[1]; m.Session == nil || m.Session.ID != "" || plex.Location(&m) != "lan" {
			t.Errorf("no session id: %+v, want a Session without id, on the lan", m.Session)
		}
	}
}

// source is what these tests read from the simulator: the real client
// (JSON) or xmlSource.
type source interface {
	Sessions(ctx context.Context) ([]plex.Metadata, error)
	Metadata(ctx context.Context, ratingKey string) (*plex.Metadata, error)
}

// xmlSource reads the same endpoints as XML, as older clients ask.
type xmlSource struct {
	t *testing.T
	s *plexsim.Server
}

func (x xmlSource) get(path string) ([]plex.Metadata, error) {
	status, _, b := rawDo(x.t, http.MethodGet, x.s.URL()+path, tokenHeader("application/xml"))
	if status != http.StatusOK {
		return nil, errors.New(http.StatusText(status))
	}
	return plex.DecodeSessions(b)
}

func (x xmlSource) Sessions(context.Context) ([]plex.Metadata, error) {
	return x.get("/status/sessions")
}

func (x xmlSource) Metadata(_ context.Context, rk string) (*plex.Metadata, error) {
	items, err := x.get("/library/metadata/" + rk)
	if err != nil || len(items) == 0 {
		return nil, errors.Join(err, errors.New("no item"))
	}
	return &items[0], nil
}

// TestSimAttributesAreReal: every attribute plexsim puts on a session's
// elements is one a published real answer carries on that element (no
// invented names, no misspellings that real clients would not read).
func TestSimAttributesAreReal(t *testing.T) {
	real := map[string]map[string]bool{}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "real", "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(f) {
		case ".xml":
			collectAttrs(t, b, real)
		case ".json":
			var v any
			if json.Unmarshal(b, &v) == nil {
				collectJSON(v, "", real)
			}
		}
	}
	if len(real["Player"]) == 0 || len(real["TranscodeSession"]) == 0 {
		t.Fatalf("no real answers read from testdata/real (%d files)", len(files))
	}
	s := startSim(t, plexsim.Options{})
	s.AddSession(plexsim.SessionSpec{User: "a", Title: "Film", Resolution: "4k", VideoCodec: "hevc", Subtitles: "srt",
		Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode, Audio: plexsim.DecisionTranscode, HW: true}})
	s.AddSession(plexsim.SessionSpec{Type: "episode", Show: "Show", Title: "Ep", Local: true})
	s.AddSession(plexsim.SessionSpec{Type: "track", Show: "Artist", Album: "Album", Title: "Song"})
	_, _, body := rawDo(t, http.MethodGet, s.URL()+"/status/sessions", tokenHeader("application/xml"))
	sim := map[string]map[string]bool{}
	collectAttrs(t, body, sim)
	for elem, attrs := range sim {
		if elem == "MediaContainer" {
			continue
		}
		for a := range attrs {
			if !real[elem][a] {
				t.Errorf("plexsim sends %s@%s, which no real answer in testdata/real has", elem, a)
			}
		}
	}
}

// elementOf names what an XML element or JSON key holds; items (Video,
// Track, Photo, JSON Metadata) are one kind.
func elementOf(name string) string {
	switch name {
	case "Video", "Track", "Photo", "Metadata":
		return "item"
	}
	return name
}

// collectJSON records the scalar keys of each object under the key that
// holds it (Metadata, Media, Player, …).
func collectJSON(v any, parent string, into map[string]map[string]bool) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			collectJSON(e, parent, into)
		}
	case map[string]any:
		elem := elementOf(parent)
		m := into[elem]
		if m == nil {
			m = map[string]bool{}
			into[elem] = m
		}
		for k, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				collectJSON(e, k, into)
			default:
				m[k] = true
			}
		}
	}
}

func collectAttrs(t *testing.T, b []byte, into map[string]map[string]bool) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	for {
		tok, err := d.Token()
		if err != nil {
			return
		}
		if se, ok := tok.(xml.StartElement); ok {
			m := into[elementOf(se.Name.Local)]
			if m == nil {
				m = map[string]bool{}
				into[elementOf(se.Name.Local)] = m
			}
			for _, a := range se.Attr {
				m[a.Name.Local] = true
			}
		}
	}
}
