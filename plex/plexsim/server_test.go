package plexsim_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// sampleSessions covers every element kind and decision.
func sampleSessions() []plexsim.SessionSpec {
	return []plexsim.SessionSpec{
		{User: "alice", UserID: "12", Player: plexsim.PlayerSpec{MachineID: "p-alice", Title: "Living Room", Product: "Plex for Apple TV", Platform: "tvOS", Device: "Apple TV"},
			Type: "movie", Title: "Night Harbor", Year: 2019, Resolution: "4k", VideoCodec: "hevc", AudioCodec: "truehd", Local: true},
		{User: "bob", Player: plexsim.PlayerSpec{MachineID: "p-bob", Product: "Plex for Roku", Platform: "Roku", Device: "Roku Ultra"},
			Type: "episode", Show: "The Long Orbit", Season: 2, Episode: 5, Title: "Signal", AudioCodec: "eac3", Local: true,
			Transcode: &plexsim.TranscodeSpec{Video: "copy", Audio: "copy"}},
		{User: "carol", Player: plexsim.PlayerSpec{MachineID: "p-carol", Product: "Plex for Android (Mobile)", Platform: "Android"},
			Type: "movie", Title: "Glass Meridian", Resolution: "4k", VideoCodec: "hevc", AudioCodec: "eac3", Address: "203.0.113.42",
			Transcode: &plexsim.TranscodeSpec{Video: "transcode", Audio: "transcode", TargetHeight: 1080, HW: true}},
		{User: "dave", Player: plexsim.PlayerSpec{MachineID: "p-dave", Product: "Plex for LG", Platform: "webOS"},
			Type: "episode", Show: "Saltmarsh", Season: 1, Episode: 3, Title: "Low Tide", Local: true, State: "paused",
			Transcode: &plexsim.TranscodeSpec{Video: "transcode", Subtitle: "burn"}},
		{User: "erin", Player: plexsim.PlayerSpec{MachineID: "p-erin", Product: "Plex for iOS", Platform: "iOS"},
			Type: "movie", Title: "The Cartographer's Daughter & Co", AudioCodec: "dca", Local: true,
			Transcode: &plexsim.TranscodeSpec{Video: "copy", Audio: "transcode"}},
		{User: "frank", Player: plexsim.PlayerSpec{MachineID: "p-frank", Product: "Plex for Windows", Platform: "Windows"},
			Type: "track", Show: "The Paper Lanterns", Album: "Harbor Lights", Title: "Lamplighter", Local: true},
		{User: "grace", Type: "clip", Title: "Trailer", Local: true},
	}
}

func TestIdentity(t *testing.T) {
	s := startSim(t, plexsim.Options{MachineID: "machine-1"})
	tests := []struct {
		name  string
		token string
	}{
		{"without token", ""},
		{"with token", testToken},
		{"with a wrong token", "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := newClient(t, s, tt.token).Identity(testCtx(t))
			if err != nil {
				t.Fatalf("Identity() error = %v, want nil", err)
			}
			if got, want := string(id.MachineIdentifier), "machine-1"; got != want {
				t.Errorf("machineIdentifier = %q, want %q", got, want)
			}
			if !id.Claimed || id.Version != plexsim.Version {
				t.Errorf("claimed, version = %v, %q, want true, %q", id.Claimed, id.Version, plexsim.Version)
			}
		})
	}
}

func TestServerInfo(t *testing.T) {
	tests := []struct {
		name     string
		plexPass bool
	}{
		{"plex pass", true},
		{"no plex pass", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, plexsim.Options{PlexPass: tt.plexPass, FriendlyName: "Basement"})
			s.AddSession(sampleSessions()[2])
			info, err := newClient(t, s, testToken).ServerInfo(testCtx(t))
			if err != nil {
				t.Fatalf("ServerInfo() error = %v", err)
			}
			if got := bool(info.MyPlexSubscription); got != tt.plexPass {
				t.Errorf("myPlexSubscription = %v, want %v", got, tt.plexPass)
			}
			for _, f := range []string{"pass", "session_kick"} {
				if got := info.HasFeature(f); got != tt.plexPass {
					t.Errorf("HasFeature(%q) = %v, want %v", f, got, tt.plexPass)
				}
			}
			if tt.plexPass && !strings.Contains(info.OwnerFeatures, "pass,session_kick") {
				t.Errorf("ownerFeatures = %q, want it to contain pass,session_kick", info.OwnerFeatures)
			}
			if !info.EventStream || info.FriendlyName != "Basement" || string(info.MachineIdentifier) != s.MachineID() {
				t.Errorf("info = %+v, want eventStream, friendlyName Basement, machineIdentifier %s", info, s.MachineID())
			}
			if info.TranscoderActiveVideoSessions != 1 {
				t.Errorf("transcoderActiveVideoSessions = %d, want 1", info.TranscoderActiveVideoSessions)
			}
		})
	}
}

func TestUnauthorized(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	c := newClient(t, s, "wrong")
	ctx := testCtx(t)
	calls := []struct {
		name string
		call func() error
	}{
		{"server info", func() error { _, err := c.ServerInfo(ctx); return err }},
		{"sessions", func() error { _, err := c.Sessions(ctx); return err }},
		{"transcode sessions", func() error { _, err := c.TranscodeSessions(ctx); return err }},
		{"stop transcode", func() error { return c.StopTranscode(ctx, "abc") }},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, plex.ErrUnauthorized) {
				t.Errorf("error = %v, want ErrUnauthorized", err)
			}
		})
	}
	// No token at all, and the event stream.
	for _, path := range []string{"/", "/status/sessions", "/:/eventsource/notifications"} {
		if status, _, _ := rawDo(t, http.MethodGet, s.URL()+path, nil); status != http.StatusUnauthorized {
			t.Errorf("GET %s without token = %d, want 401", path, status)
		}
	}
}

func TestAnyTokenAccepted(t *testing.T) {
	s := plexsim.New(plexsim.Options{}) // Token "": any non-empty token
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := newClient(t, s, "whatever").Sessions(testCtx(t)); err != nil {
		t.Errorf("Sessions with any token: %v, want nil", err)
	}
	if status, _, _ := rawDo(t, http.MethodGet, s.URL()+"/status/sessions", nil); status != http.StatusUnauthorized {
		t.Errorf("no token = %d, want 401", status)
	}
}

func TestSessionsJSONAndXML(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	for _, spec := range sampleSessions() {
		s.AddSession(spec)
	}
	want := stripXMLName(s.Sessions())
	if len(want) != len(sampleSessions()) {
		t.Fatalf("Sessions() = %d items, want %d", len(want), len(sampleSessions()))
	}

	tests := []struct {
		name        string
		accept      string
		contentType string
		bodyHas     []string
	}{
		{"json", "application/json", "application/json", []string{`{"MediaContainer":{"size":7,"Metadata":[`, `Daughter & Co"`}},
		{"json among others", "text/html, application/json;q=0.9", "application/json", []string{`"MediaContainer"`}},
		{"xml without accept", "", "text/xml", []string{`<MediaContainer size="7">`, `<Video `, `<Track `, `</Video>`, `<TranscodeSession key="/transcode/sessions/`}},
		{"xml for xml", "application/xml", "text/xml", []string{`<?xml`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, ct, body := rawDo(t, http.MethodGet, s.URL()+"/status/sessions", tokenHeader(tt.accept))
			if status != http.StatusOK {
				t.Fatalf("status = %d, want 200", status)
			}
			if !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type = %q, want %s", ct, tt.contentType)
			}
			for _, sub := range tt.bodyHas {
				if !strings.Contains(string(body), sub) {
					t.Errorf("body lacks %q:\n%.600s", sub, body)
				}
			}
			got, err := plex.DecodeSessions(body)
			if err != nil {
				t.Fatalf("DecodeSessions: %v", err)
			}
			if g := stripXMLName(got); !reflect.DeepEqual(g, want) {
				t.Errorf("decoded sessions differ from Sessions():\n got %+v\nwant %+v", g, want)
			}
		})
	}

	// The handler alone gives the same answer, and XML names the elements by kind.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/status/sessions", nil)
	req.Header.Set("X-Plex-Token", testToken)
	s.Handler().ServeHTTP(rec, req)
	got, err := plex.DecodeSessions(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	wantElem := []string{"Video", "Video", "Video", "Video", "Video", "Track", "Video"}
	for i, m := range got {
		if m.XMLName.Local != wantElem[i] {
			t.Errorf("item %d (%s) element = %q, want %q", i, m.Type, m.XMLName.Local, wantElem[i])
		}
	}
	// And the real client reads the same.
	viaClient, err := newClient(t, s, testToken).Sessions(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stripXMLName(viaClient), want) {
		t.Errorf("client.Sessions() differs from Sessions()")
	}
}

func TestSessionsClassify(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	for _, spec := range sampleSessions() {
		s.AddSession(spec)
	}
	got, err := newClient(t, s, testToken).Sessions(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		title    string
		decision plex.Decision
		video    bool // video transcode
		audio    bool // audio-only transcode
		burn     bool
		hw       bool
		location string
		short    string
	}{
		{"Night Harbor", plex.DirectPlay, false, false, false, false, "lan", "Direct Play"},
		{"Signal", plex.DirectStream, false, false, false, false, "lan", "Direct Stream"},
		{"Glass Meridian", plex.Transcode, true, false, false, true, "wan", "Transcode (HEVC 4K→1080p)"},
		{"Low Tide", plex.Transcode, true, false, true, false, "lan", "Transcode (H.264 1080p)"},
		{"The Cartographer's Daughter & Co", plex.Transcode, false, true, false, false, "lan", "Transcode (audio)"},
		{"Lamplighter", plex.DirectPlay, false, false, false, false, "lan", "Direct Play"},
		{"Trailer", plex.DirectPlay, false, false, false, false, "lan", "Direct Play"},
	}
	if len(got) != len(tests) {
		t.Fatalf("got %d sessions, want %d", len(got), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			m := got[i]
			if m.Title != tt.title {
				t.Fatalf("title = %q, want %q", m.Title, tt.title)
			}
			c := plex.Classify(&m)
			if c.Decision != tt.decision || c.VideoTranscode != tt.video || c.AudioOnly != tt.audio || c.SubtitleBurn != tt.burn || c.HW.Active() != tt.hw {
				t.Errorf("Classify = %+v, want decision %s video %v audio-only %v burn %v hw %v", c, tt.decision, tt.video, tt.audio, tt.burn, tt.hw)
			}
			if got := plex.Location(&m); got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			if got := c.Short(); got != tt.short {
				t.Errorf("Short() = %q, want %q", got, tt.short)
			}
			if m.Session == nil || m.Session.ID == "" || m.User == nil || m.Player == nil || m.Player.MachineIdentifier == "" {
				t.Errorf("missing Session/User/Player: %+v", m)
			}
			if (m.TranscodeSession != nil) != (tt.decision != plex.DirectPlay) {
				t.Errorf("TranscodeSession = %+v for %s", m.TranscodeSession, tt.decision)
			}
			if ts := m.TranscodeSession; ts != nil && !strings.HasPrefix(ts.Key, "/transcode/sessions/") {
				t.Errorf("TranscodeSession.key = %q, want /transcode/sessions/<id>", ts.Key)
			}
		})
	}
	ep := got[1]
	if ep.GrandparentTitle != "The Long Orbit" || ep.ParentIndex != 2 || ep.Index != 5 {
		t.Errorf("episode = %q S%dE%d, want The Long Orbit S2E5", ep.GrandparentTitle, ep.ParentIndex, ep.Index)
	}
	if got[3].Player.State != "paused" {
		t.Errorf("paused session player state = %q", got[3].Player.State)
	}
}

func TestTranscodeSessionsBareKeys(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	var want []string
	for _, spec := range sampleSessions() {
		if ref := s.AddSession(spec); ref.TranscodeKey != "" {
			want = append(want, ref.TranscodeKey)
		}
	}
	for _, accept := range []string{"application/json", ""} {
		_, _, body := rawDo(t, http.MethodGet, s.URL()+"/transcode/sessions", tokenHeader(accept))
		ts, err := plex.DecodeTranscodeSessions(body)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range ts {
			got = append(got, x.Key)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("accept %q: keys = %q, want bare %q", accept, got, want)
		}
	}
}

func TestTerminate(t *testing.T) {
	tests := []struct {
		name        string
		plexPass    bool
		token       string
		id          func(ref plexsim.SessionRef) string
		zombie      bool
		wantErr     error
		wantStatus  int
		wantRemoved bool
	}{
		{"ok", true, testToken, func(r plexsim.SessionRef) string { return r.ID }, false, nil, 200, true},
		{"sessionKey is not the id", true, testToken, func(r plexsim.SessionRef) string { return r.Key }, false, plex.ErrNotFound, 404, false},
		{"unknown id", true, testToken, func(plexsim.SessionRef) string { return "nosuchsession" }, false, plex.ErrNotFound, 404, false},
		{"no plex pass", false, testToken, func(r plexsim.SessionRef) string { return r.ID }, false, plex.ErrPlexPassRequired, 401, false},
		{"wrong token", true, "wrong", func(r plexsim.SessionRef) string { return r.ID }, false, plex.ErrUnauthorized, 401, false},
		{"zombie ignores it", true, testToken, func(r plexsim.SessionRef) string { return r.ID }, true, nil, 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, plexsim.Options{PlexPass: tt.plexPass})
			spec := sampleSessions()[2]
			spec.Zombie = tt.zombie
			ref := s.AddSession(spec)
			id := tt.id(ref)
			err := newClient(t, s, tt.token).Terminate(testCtx(t), id, "Too many streams & 4K")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Terminate() error = %v, want %v", err, tt.wantErr)
			}
			calls := s.Calls()
			if len(calls) != 1 {
				t.Fatalf("Calls() = %+v, want one", calls)
			}
			c := calls[0]
			if c.Kind != plexsim.CallTerminate || c.SessionID != id || c.Reason != "Too many streams & 4K" || c.Status != tt.wantStatus || c.Method != http.MethodGet {
				t.Errorf("call = %+v, want terminate of %q with the reason, status %d", c, id, tt.wantStatus)
			}
			if got := s.SessionCount() == 0; got != tt.wantRemoved {
				t.Errorf("session removed = %v, want %v", got, tt.wantRemoved)
			}
		})
	}
}

func TestTerminateRaw(t *testing.T) {
	s := startSim(t, plexsim.Options{PlexPass: true})
	tests := []struct {
		name   string
		method string
		query  func(id string) string
		want   int
	}{
		{"missing", http.MethodGet, func(string) string { return "reason=x" }, 400},
		{"lower-case sessionid", http.MethodGet, func(id string) string { return "sessionid=" + id }, 400},
		{"empty", http.MethodGet, func(string) string { return "sessionId=" }, 403},
		{"DELETE not allowed", http.MethodDelete, func(id string) string { return "sessionId=" + id }, 405},
		{"POST works", http.MethodPost, func(id string) string { return "sessionId=" + id + "&reason=bye" }, 200},
		{"GET after POST: gone", http.MethodGet, func(id string) string { return "sessionId=" + id }, 404},
	}
	ref := s.AddSession(sampleSessions()[0])
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, _ := rawDo(t, tt.method, s.URL()+"/status/sessions/terminate?"+tt.query(ref.ID), tokenHeader(""))
			if status != tt.want {
				t.Errorf("%s terminate?%s = %d, want %d", tt.method, tt.query(ref.ID), status, tt.want)
			}
		})
	}
	calls := s.Calls()
	if len(calls) != len(tests) {
		t.Fatalf("recorded %d calls, want %d", len(calls), len(tests))
	}
	if c := calls[4]; c.Method != http.MethodPost || c.Reason != "bye" || c.Status != 200 {
		t.Errorf("POST call = %+v", c)
	}
}

func TestTerminateEvents(t *testing.T) {
	s := startSim(t, plexsim.Options{PlexPass: true})
	ref := s.AddSession(sampleSessions()[2])
	sse := dialSSE(t, s, "filters=playing,transcodeSession.end")
	if err := newClient(t, s, testToken).Terminate(testCtx(t), ref.ID, "bye"); err != nil {
		t.Fatal(err)
	}
	evs := sse.collect(200 * time.Millisecond)
	if got, want := names(evs), []string{"playing", "transcodeSession.end"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	ev, err := plex.ParseEvent(evs[0].name, []byte(evs[0].data))
	if err != nil || ev.Playing.State != "stopped" || string(ev.Playing.SessionKey) != ref.Key {
		t.Errorf("playing = %+v (%v), want stopped for %s", ev.Playing, err, ref.Key)
	}
}

func TestStopTranscode(t *testing.T) {
	tests := []struct {
		name   string
		stop   func(t *testing.T, s *plexsim.Server, key string) error
		method string
	}{
		{"client DELETE full key", func(t *testing.T, s *plexsim.Server, key string) error {
			return newClient(t, s, testToken).StopTranscode(testCtx(t), "/transcode/sessions/"+key)
		}, http.MethodDelete},
		{"universal stop", func(t *testing.T, s *plexsim.Server, key string) error {
			status, _, _ := rawDo(t, http.MethodGet, s.URL()+"/video/:/transcode/universal/stop?session="+url.QueryEscape(key), tokenHeader(""))
			if status != 200 {
				return errors.New(http.StatusText(status))
			}
			return nil
		}, http.MethodGet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, plexsim.Options{}) // no Plex Pass needed
			ref := s.AddSession(sampleSessions()[2])
			sse := dialSSE(t, s, "")
			if err := tt.stop(t, s, ref.TranscodeKey); err != nil {
				t.Fatalf("stop: %v", err)
			}
			sessions := s.Sessions()
			if len(sessions) != 1 || sessions[0].TranscodeSession != nil {
				t.Errorf("after stop: %d sessions, TranscodeSession %+v; want 1 session without", len(sessions), sessions)
			}
			evs := sse.collect(200 * time.Millisecond)
			if len(evs) != 1 || evs[0].name != plex.EventTranscodeEnd || !strings.Contains(evs[0].data, `"key":"/transcode/sessions/`+ref.TranscodeKey+`"`) {
				t.Errorf("events = %+v, want one transcodeSession.end for %s", evs, ref.TranscodeKey)
			}
			calls := s.Calls()
			if len(calls) != 1 || calls[0].Kind != plexsim.CallStopTranscode || calls[0].TranscodeKey != ref.TranscodeKey || calls[0].Status != 200 || calls[0].Method != tt.method {
				t.Errorf("calls = %+v, want one stop-transcode of %s", calls, ref.TranscodeKey)
			}
			// Again: the job is gone.
			if err := newClient(t, s, testToken).StopTranscode(testCtx(t), ref.TranscodeKey); !errors.Is(err, plex.ErrNotFound) {
				t.Errorf("second stop error = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestScenarioEvents(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	sse := dialSSE(t, s, "filters=playing,transcodeSession.start,transcodeSession.update,transcodeSession.end")
	spec := sampleSessions()[3] // paused subtitle burn
	spec.State = ""
	ref := s.AddSession(spec)
	if err := s.SetState(ref.Key, "paused"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetState(ref.Key, "stopped"); !errors.Is(err, plexsim.ErrBadState) {
		t.Errorf("SetState(stopped) = %v, want ErrBadState", err)
	}
	if err := s.SetState(ref.Key, "playing"); err != nil {
		t.Fatal(err)
	}
	s.Advance(10 * time.Second)
	if err := s.Seek(ref.Key, 60000); err != nil {
		t.Fatal(err)
	}
	newRef, _ := s.Ref(ref.Key)
	if newRef.TranscodeKey == ref.TranscodeKey || newRef.TranscodeKey == "" {
		t.Errorf("after seek transcode key = %q, want a new one (was %q)", newRef.TranscodeKey, ref.TranscodeKey)
	}
	if err := s.StopTranscodeOf(ref.Key); err != nil {
		t.Fatal(err)
	}
	if err := s.StopTranscodeOf(ref.Key); !errors.Is(err, plexsim.ErrNoTranscode) {
		t.Errorf("StopTranscodeOf twice = %v, want ErrNoTranscode", err)
	}
	tk, err := s.StartTranscode(ref.Key, plexsim.TranscodeSpec{Audio: "transcode"})
	if err != nil || tk == "" {
		t.Fatalf("StartTranscode = %q, %v", tk, err)
	}
	if err := s.EndSession(ref.Key); err != nil {
		t.Fatal(err)
	}
	if err := s.EndSession(ref.Key); !errors.Is(err, plexsim.ErrUnknownSession) {
		t.Errorf("EndSession twice = %v, want ErrUnknownSession", err)
	}

	type want struct {
		name, state, transcode string
		offset                 int64
	}
	wants := []want{
		{"transcodeSession.start", "", ref.TranscodeKey, 0},
		{"playing", "playing", ref.TranscodeKey, 0},
		{"playing", "paused", ref.TranscodeKey, 0},
		{"playing", "playing", ref.TranscodeKey, 0},
		{"transcodeSession.update", "", ref.TranscodeKey, 0},
		{"playing", "playing", ref.TranscodeKey, 10000},
		{"transcodeSession.end", "", ref.TranscodeKey, 0},
		{"transcodeSession.start", "", newRef.TranscodeKey, 0},
		{"playing", "playing", newRef.TranscodeKey, 60000},
		{"transcodeSession.end", "", newRef.TranscodeKey, 0},
		{"transcodeSession.start", "", tk, 0},
		{"playing", "playing", tk, 60000},
		{"playing", "stopped", tk, 60000},
		{"transcodeSession.end", "", tk, 0},
	}
	evs := sse.collect(300 * time.Millisecond)
	if len(evs) != len(wants) {
		t.Fatalf("events = %v, want %d events", names(evs), len(wants))
	}
	for i, w := range wants {
		ev, err := plex.ParseEvent(evs[i].name, []byte(evs[i].data))
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ev.Name != w.name {
			t.Errorf("event %d = %s, want %s", i, ev.Name, w.name)
			continue
		}
		if ev.Playing != nil {
			p := ev.Playing
			if p.State != w.state || p.TranscodeSession != w.transcode || int64(p.ViewOffset) != w.offset ||
				string(p.SessionKey) != ref.Key || string(p.ClientIdentifier) != "p-dave" || p.Key != "/library/metadata/"+string(p.RatingKey) {
				t.Errorf("event %d playing = %+v, want state %s transcode %q offset %d", i, p, w.state, w.transcode, w.offset)
			}
		}
		if ev.Transcode != nil && ev.Transcode.Key != "/transcode/sessions/"+w.transcode {
			t.Errorf("event %d %s key = %q, want /transcode/sessions/%s", i, ev.Name, ev.Transcode.Key, w.transcode)
		}
	}
}

func TestAdvanceEndsAtDuration(t *testing.T) {
	clk := &manualClock{t: time.Unix(1_700_000_000, 0)}
	s := startSim(t, plexsim.Options{Clock: clk.Now})
	a := s.AddSession(plexsim.SessionSpec{Type: "track", Title: "Short", DurationMs: 30000})
	b := s.AddSession(plexsim.SessionSpec{Title: "Paused", State: "paused", ViewOffsetMs: 5000})
	s.Advance(20 * time.Second)
	if got := s.Sessions()[0].ViewOffset; got != 20000 {
		t.Errorf("offset after 20 s = %d, want 20000", got)
	}
	s.Advance(20 * time.Second)
	// Ended, but still listed for a few seconds as real Plex does.
	if got := s.Sessions(); len(got) != 2 || s.SessionCount() != 1 || got[0].ViewOffset != 30000 {
		t.Errorf("just after the end: %d listed (first at %d), %d playing; want %s still listed at 30000 and 1 playing",
			len(got), got[0].ViewOffset, s.SessionCount(), a.Key)
	}
	clk.Add(plexsim.DefaultLinger)
	got := s.Sessions()
	if len(got) != 1 || string(got[0].SessionKey) != b.Key || got[0].ViewOffset != 5000 {
		t.Errorf("after the end: %+v, want only %s (paused, offset 5000), %s ended", got, b.Key, a.Key)
	}
}

// manualClock is a clock tests move by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *manualClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestFaults(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	c := newClient(t, s, testToken)
	ctx := testCtx(t)

	s.FailNext(503, 2)
	for i := 0; i < 2; i++ {
		if _, err := c.Sessions(ctx); !errors.Is(err, plex.ErrServer) {
			t.Errorf("FailNext request %d error = %v, want ErrServer", i, err)
		}
	}
	if _, err := c.Sessions(ctx); err != nil {
		t.Errorf("after FailNext: %v", err)
	}

	s.FailAll(401)
	if _, err := c.Sessions(ctx); !errors.Is(err, plex.ErrUnauthorized) {
		t.Errorf("FailAll(401) error = %v, want ErrUnauthorized", err)
	}
	if _, status := dialSSEStatus(t, s, ""); status != 401 {
		t.Errorf("FailAll(401) event stream = %d, want 401", status)
	}
	if _, err := c.Identity(ctx); err != nil {
		t.Errorf("/identity under FailAll: %v, want nil", err)
	}
	s.FailAll(0)
	if _, err := c.Sessions(ctx); err != nil {
		t.Errorf("after FailAll(0): %v", err)
	}

	s.SetDelay(150 * time.Millisecond)
	start := time.Now()
	if _, err := c.Sessions(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("delayed answer took %v, want >= 150ms", d)
	}
	short := newClientTimeout(t, s, 50*time.Millisecond)
	if _, err := short.Sessions(ctx); !errors.Is(err, plex.ErrTimeout) {
		t.Errorf("delay beyond the client timeout: %v, want ErrTimeout", err)
	}
	s.SetDelay(0)
}

func newClientTimeout(t *testing.T, s *plexsim.Server, d time.Duration) *plex.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := plex.NewClient(s.URL(), testToken, plex.ClientInfo{ID: "test"}, plex.WithHTTPClient(&http.Client{Transport: tr}), plex.WithTimeout(d))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenHygiene(t *testing.T) {
	s := startSim(t, plexsim.Options{PlexPass: true})
	ref := s.AddSession(sampleSessions()[2])
	c := newClient(t, s, testToken)
	ctx := testCtx(t)
	_, _ = c.ServerInfo(ctx)
	_, _ = c.Sessions(ctx)
	_ = c.StopTranscode(ctx, ref.TranscodeKey)
	_ = c.Terminate(ctx, ref.ID, "bye")
	if v := s.Violations(); len(v) != 0 {
		t.Errorf("the client put the token in the query: %+v", v)
	}
	reqs := s.Requests()
	if len(reqs) != 4 {
		t.Fatalf("Requests() = %d, want 4", len(reqs))
	}
	for _, r := range reqs {
		if r.Header.Get("X-Plex-Token") != testToken || strings.Contains(r.RawQuery, "X-Plex-Token") {
			t.Errorf("%s %s?%s: token header %q", r.Method, r.Path, r.RawQuery, r.Header.Get("X-Plex-Token"))
		}
	}

	// A token in the query works, as on real Plex, but is flagged.
	status, _, _ := rawDo(t, http.MethodGet, s.URL()+"/status/sessions?X-Plex-Token="+testToken, nil)
	if status != 200 {
		t.Errorf("query token status = %d, want 200", status)
	}
	v := s.Violations()
	if len(v) != 1 || v[0].Path != "/status/sessions" {
		t.Errorf("Violations() = %+v, want the query-token request", v)
	}
}

func TestWaitCalls(t *testing.T) {
	s := startSim(t, plexsim.Options{PlexPass: true})
	ref := s.AddSession(sampleSessions()[0])
	done := make(chan []plexsim.Call)
	go func() {
		calls, _ := s.WaitCalls(context.Background(), 1)
		done <- calls
	}()
	time.Sleep(20 * time.Millisecond)
	if err := newClient(t, s, testToken).Terminate(testCtx(t), ref.ID, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case calls := <-done:
		if len(calls) != 1 || calls[0].SessionID != ref.ID {
			t.Errorf("WaitCalls = %+v", calls)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WaitCalls did not return")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if calls, err := s.WaitCalls(ctx, 2); !errors.Is(err, context.DeadlineExceeded) || len(calls) != 1 {
		t.Errorf("WaitCalls(2) = %d calls, %v; want 1, deadline exceeded", len(calls), err)
	}
}

func TestRestartKeepsAddress(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	ref := s.AddSession(sampleSessions()[0])
	addr := s.Addr()
	sse := dialSSE(t, s, "")
	if err := s.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if got := s.Addr(); got != addr {
		t.Errorf("Addr after Restart = %q, want %q", got, addr)
	}
	select {
	case <-sse.done:
	case <-time.After(5 * time.Second):
		t.Fatal("stream still open after Restart")
	}
	got, err := newClient(t, s, testToken).Sessions(testCtx(t))
	if err != nil || len(got) != 1 || string(got[0].SessionKey) != ref.Key {
		t.Errorf("sessions after Restart = %+v, %v; want %s kept", got, err, ref.Key)
	}
	sse2 := dialSSE(t, s, "filters=playing")
	_ = s.SetState(ref.Key, "paused")
	if ev := sse2.next(t, 2*time.Second, true); ev.name != "playing" {
		t.Errorf("event after Restart = %q", ev.name)
	}
}

func TestLifecycleErrors(t *testing.T) {
	s := plexsim.New(plexsim.Options{})
	if err := s.Restart(); !errors.Is(err, plexsim.ErrNotStarted) {
		t.Errorf("Restart before Start = %v, want ErrNotStarted", err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); !errors.Is(err, plexsim.ErrStarted) {
		t.Errorf("second Start = %v, want ErrStarted", err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL() = %q, want http://127.0.0.1:port", s.URL())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := s.Restart(); !errors.Is(err, plexsim.ErrClosed) {
		t.Errorf("Restart after Close = %v, want ErrClosed", err)
	}
	if _, err := newClient(t, s, testToken).Identity(testCtx(t)); !errors.Is(err, plex.ErrUnreachable) {
		t.Errorf("Identity after Close = %v, want ErrUnreachable", err)
	}
}
