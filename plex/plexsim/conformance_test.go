package plexsim_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// The community OpenAPI spec's schemas (plex/testdata/spec, SOURCES.md)
// check plexsim's JSON the way a client that validates answers does
// (plexjs): types and required fields. Where the spec and published real
// answers disagree, real answers win; each such case is listed here with
// the evidence, and only those paths are let through.
var specExceptions = map[string]string{
	// Required by the spec; absent from every published /status/sessions
	// capture (testdata/real: plexopedia, Home Assistant, PMS 1.43).
	"MediaContainer.Metadata[].Media[].Part[].Stream[].key": "streams inside a session carry no key in any real capture",
	// Required by the spec; real Parts being transcoded have no key
	// (plexopedia-sessions-transcode.xml, appliance-pms1.43-*).
	"MediaContainer.Metadata[].Media[].Part[].key": "a Part being transcoded has no key in real captures",
	// The spec's enum is lan/wan; python-plexapi's Session model and
	// docs/plex-api.md §4.3 name "cellular" for a remote mobile player.
	"MediaContainer.Metadata[].Session.location": "cellular is sent for remote players on a mobile network",
}

// validate checks v against a JSON schema subset (type, properties,
// required, items, enum, nullable) and returns the violations, each with
// its path. Unknown keywords are ignored, as the spec allows extra fields.
func validate(schema map[string]any, v any, path string) []string {
	var errs []string
	if v == nil {
		if n, _ := schema["nullable"].(bool); n || typeAllows(schema["type"], "null") || schema["type"] == nil {
			return nil
		}
		return []string{path + ": null"}
	}
	kind := jsonKind(v)
	if t := schema["type"]; t != nil && !typeAllows(t, kind) && !(kind == "integer" && typeAllows(t, "number")) {
		return []string{fmt.Sprintf("%s: %s, the spec says %v", path, kind, t)}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", path, v, enum))
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for _, r := range asStrings(schema["required"]) {
			if _, ok := x[r]; !ok {
				errs = append(errs, strings.TrimPrefix(path+"."+r, ".")+": required by the spec, missing")
			}
		}
		for k, val := range x {
			if ps, ok := props[k].(map[string]any); ok {
				errs = append(errs, validate(ps, val, strings.TrimPrefix(path+"."+k, "."))...)
			}
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for _, e := range x {
				errs = append(errs, validate(items, e, path+"[]")...)
			}
		}
	}
	return errs
}

func jsonKind(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		if x == math.Trunc(x) {
			return "integer"
		}
		return "number"
	}
	return "null"
}

func typeAllows(t any, kind string) bool {
	switch x := t.(type) {
	case string:
		return x == kind
	case []any:
		return slices.ContainsFunc(x, func(e any) bool { return e == kind })
	}
	return false
}

func asStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func loadSchema(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "spec", name))
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

// conformanceSim plays one of each shape the product meets.
func conformanceSim(t *testing.T) *plexsim.Server {
	s := startSim(t, plexsim.Options{PingInterval: 20 * time.Millisecond})
	s.AddSession(plexsim.SessionSpec{User: "a", Title: "Film", Resolution: "4k", VideoCodec: "hevc", AudioCodec: "truehd", Subtitles: "pgs",
		Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode, Audio: plexsim.DecisionTranscode, Subtitle: plexsim.DecisionBurn, HW: true}})
	s.AddSession(plexsim.SessionSpec{User: "b", Type: "episode", Show: "Show", Title: "Ep", Local: true, Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionCopy}})
	s.AddSession(plexsim.SessionSpec{User: "c", Type: "track", Show: "Artist", Album: "Album", Title: "Song", Relayed: true})
	s.AddSession(plexsim.SessionSpec{User: "d", Title: "On the bus", Cellular: true})
	s.AddSession(plexsim.SessionSpec{User: "e", Title: "News", LiveTV: true, Type: "episode", Show: "Channel 5"})
	s.AddSession(plexsim.SessionSpec{User: "f", Title: "Nowhere", NoLocation: true, NoSessionID: true, Address: "10.0.0.5"})
	return s
}

// TestSimConformsToSpec: plexsim's JSON answers pass the spec's schemas
// (as plexjs validates them), but for the recorded real-world exceptions.
func TestSimConformsToSpec(t *testing.T) {
	s := conformanceSim(t)
	tests := []struct{ path, schema string }{
		{"/status/sessions", "status-sessions.schema.json"},
		{"/identity", "identity.schema.json"},
		{"/transcode/sessions", "transcode-sessions.schema.json"},
	}
	for _, tt := range tests {
		status, _, body := rawDo(t, http.MethodGet, s.URL()+tt.path, tokenHeader("application/json"))
		if status != http.StatusOK {
			t.Fatalf("%s: %d", tt.path, status)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s: not JSON: %v", tt.path, err)
		}
		for _, e := range validate(loadSchema(t, tt.schema), v, "") {
			p, _, _ := strings.Cut(e, ":")
			if _, excused := specExceptions[p]; !excused {
				t.Errorf("%s: %s", tt.path, e)
			}
		}
	}
	// The validator is not blind: an answer of the wrong shape fails.
	bad := map[string]any{"MediaContainer": map[string]any{"size": "1", "Metadata": []any{map[string]any{"title": 5}}}}
	if errs := validate(loadSchema(t, "status-sessions.schema.json"), bad, ""); len(errs) < 3 {
		t.Errorf("a malformed answer passed the spec check: %v", errs)
	}
}

// TestSimTypesAndPresence: the JSON types and the zero values real servers
// send (plex/testdata/real; the spec agrees): Player.userID a number,
// ids of Media/Part/Stream numbers, User.id and ratingKey strings, and
// viewOffset 0 and false flags present rather than left out.
func TestSimTypesAndPresence(t *testing.T) {
	s := startSim(t, plexsim.Options{})
	sse := dialSSE(t, s, "filters=playing")
	s.AddSession(plexsim.SessionSpec{User: "ann", UserID: "1", Title: "Start", Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}})
	_, _, body := rawDo(t, http.MethodGet, s.URL()+"/status/sessions", tokenHeader("application/json"))
	var doc struct {
		MediaContainer struct {
			Metadata []map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(body, &doc); err != nil || len(doc.MediaContainer.Metadata) != 1 {
		t.Fatalf("answer: %v", err)
	}
	item := doc.MediaContainer.Metadata[0]
	field := func(obj map[string]json.RawMessage, key string) string { return string(obj[key]) }
	sub := func(key string) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		raw := item[key]
		if len(raw) > 0 && raw[0] == '[' {
			var list []map[string]json.RawMessage
			_ = json.Unmarshal(raw, &list)
			if len(list) > 0 {
				return list[0]
			}
		}
		_ = json.Unmarshal(raw, &m)
		return m
	}
	player, ts, user, media := sub("Player"), sub("TranscodeSession"), sub("User"), sub("Media")
	checks := []struct{ what, got, want string }{
		{"viewOffset", field(item, "viewOffset"), "0"},
		{"ratingKey is a string", field(item, "ratingKey")[:1], `"`},
		{"Player.userID", field(player, "userID"), "1"},
		{"Player.local", field(player, "local"), "false"},
		{"Player.relayed", field(player, "relayed"), "false"},
		{"User.id", field(user, "id"), `"1"`},
		{"TranscodeSession.throttled", field(ts, "throttled"), "false"},
		{"TranscodeSession.complete", field(ts, "complete"), "false"},
		{"TranscodeSession.error", field(ts, "error"), "false"},
		{"TranscodeSession.transcodeHwRequested", field(ts, "transcodeHwRequested"), "false"},
		{"Media.id is a number", strings.Trim(field(media, "id"), "0123456789"), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.what, c.got, c.want)
		}
	}
	ev := sse.next(t, 2*time.Second, true)
	for _, k := range []string{`"viewOffset":0`, `"guid":""`, `"url":""`} {
		if !strings.Contains(ev.raw, k) {
			t.Errorf("first playing event %q lacks %s", ev.raw, k)
		}
	}
}

// TestEventSourceClientReadsSimFeed parses plexsim's stream as the
// WHATWG EventSource algorithm does (a browser's or plexjs's client):
// every event it dispatches has a name, data that is one JSON object
// keyed by the child the name implies, and nothing is left half-read.
func TestEventSourceClientReadsSimFeed(t *testing.T) {
	s := conformanceSim(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/:/eventsource/notifications?filters=", nil)
	req.Header.Set("X-Plex-Token", testToken)
	req.Header.Set("Accept", "text/event-stream")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		ref := s.AddSession(plexsim.SessionSpec{User: "z", Title: "Late", Transcode: &plexsim.TranscodeSpec{Video: plexsim.DecisionTranscode}})
		s.Background()
		s.Advance(time.Second)
		_ = s.SetState(ref.Key, plexsim.StatePaused)
		_ = s.EndSession(ref.Key)
		for range 3 {
			s.Background()
		}
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	child := map[string]string{
		"playing": "PlaySessionStateNotification", "transcodeSession.start": "TranscodeSession", "transcodeSession.update": "TranscodeSession",
		"transcodeSession.end": "TranscodeSession", "activity": "ActivityNotification", "log": "LogSentNotification",
		"update.statechange": "AutoUpdateNotification",
	}
	seen := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	var name string
	var data bytes.Buffer
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() == 0 {
				name = ""
				continue // per the algorithm: no data, nothing dispatched
			}
			d := bytes.TrimSuffix(data.Bytes(), []byte("\n"))
			if name == "" {
				t.Errorf("an event without a name (would dispatch as 'message'): %s", d)
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(d, &obj); err != nil {
				t.Errorf("%s: data is not a JSON object: %s", name, d)
			}
			if want, ok := child[name]; ok && (len(obj) != 1 || obj[want] == nil) {
				t.Errorf("%s: data %s, want one object keyed %s", name, d, want)
			}
			if name == "ping" && string(d) != "{}" {
				t.Errorf("ping data %s, want {}", d)
			}
			seen[name]++
			name = ""
			data.Reset()
		case strings.HasPrefix(line, ":"):
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				name = value
			case "data":
				data.WriteString(value)
				data.WriteByte('\n')
			case "id", "retry":
			default:
				t.Errorf("unknown field %q in line %q", field, line)
			}
		}
	}
	for _, want := range []string{"ping", "playing", "transcodeSession.start", "transcodeSession.update", "transcodeSession.end", "activity", "log", "update.statechange"} {
		if seen[want] == 0 {
			t.Errorf("no %s event read (saw %v)", want, seen)
		}
	}
}

// TestSimRelayedCellularLiveTV: the shapes of relayed, cellular and Live
// TV sessions, and what the product makes of them.
func TestSimRelayedCellularLiveTV(t *testing.T) {
	s := conformanceSim(t)
	items, err := newClient(t, s, testToken).Sessions(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	byUser := map[string]*plex.Metadata{}
	for i := range items {
		byUser[items[i].User.Title] = &items[i]
	}
	if m := byUser["c"]; m == nil || !m.Player.Relayed || m.Player.Address != "127.0.0.1" {
		t.Errorf("relayed: %+v, want Player.relayed and the relay's address", m.Player)
	}
	if m := byUser["d"]; m == nil || plex.Location(m) != "cellular" {
		t.Errorf("cellular: location %q", plex.Location(m))
	}
	m := byUser["e"]
	if m == nil || plex.PlaybackKind(m) != plex.KindLiveTV || !strings.HasPrefix(m.Key, "/livetv/sessions/") || plex.LibraryRatingKey(string(m.RatingKey)) {
		t.Fatalf("live TV: kind %s key %q ratingKey %q", plex.PlaybackKind(m), m.Key, m.RatingKey)
	}
	if status, _, _ := rawDo(t, http.MethodGet, s.URL()+"/library/metadata/"+string(m.RatingKey), tokenHeader("")); status != http.StatusNotFound {
		t.Errorf("/library/metadata of a Live TV key: %d, want 404", status)
	}
}
