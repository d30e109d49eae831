package plex

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The three fixtures describe the same sessions: XML, new typed JSON and
// old string-typed JSON (with a one-element User array and an unknown field).
func TestDecodeSessionsFormats(t *testing.T) {
	for _, name := range []string{"sessions.xml", "sessions-typed.json", "sessions-strings.json"} {
		t.Run(name, func(t *testing.T) {
			items, err := DecodeSessions(readFixture(t, name))
			if err != nil {
				t.Fatalf("DecodeSessions: %v", err)
			}
			if got, want := len(items), 3; got != want {
				t.Fatalf("got %d items, want %d", got, want)
			}
			ep := items[0]
			checks := []struct {
				field     string
				got, want any
			}{
				{"sessionKey", string(ep.SessionKey), "12"},
				{"type", ep.Type, "episode"},
				{"parentIndex", int64(ep.ParentIndex), int64(2)},
				{"viewOffset", int64(ep.ViewOffset), int64(61000)},
				{"duration", int64(ep.Duration), int64(2580000)},
				{"librarySectionID", string(ep.LibrarySectionID), "2"},
				{"user", ep.User.Title, "alice"},
				{"user id", string(ep.User.ID), "1"},
				{"player local", ep.Player.Local.IsTrue(), true},
				{"player machineIdentifier", string(ep.Player.MachineIdentifier), "web-1"},
				{"session id", string(ep.Session.ID), "abc-session"},
				{"bandwidth", int64(ep.Session.Bandwidth), int64(10000)},
				{"transcode key", ep.TranscodeSession.ID(), "tc123"},
				{"hw full", bool(ep.TranscodeSession.TranscodeHwFullPipeline), true},
				{"speed", float64(ep.TranscodeSession.Speed), 2.5},
				{"throttled", bool(ep.TranscodeSession.Throttled), true},
				{"streams", len(ep.Media[0].Part[0].Stream), 3},
				{"media selected", bool(ep.Media[0].Selected), true},
				{"movie state", items[1].Player.State, "paused"},
				{"movie no transcode", items[1].TranscodeSession == nil, true},
				{"track guid", items[2].GUID, "library://abc/item/1"},
				{"track has no player", items[2].Player == nil, true},
			}
			for _, c := range checks {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s = %#v, want %#v", c.field, c.got, c.want)
				}
			}
		})
	}
}

func TestDecodeSessionsEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    int
		wantErr bool
	}{
		{"empty body", "", 0, false},
		{"empty json container", `{"MediaContainer":{"size":0}}`, 0, false},
		{"empty xml container", `<MediaContainer size="0"/>`, 0, false},
		{"no MediaContainer", `{"other":1}`, 0, false},
		{"null fields", `{"MediaContainer":{"size":null,"Metadata":[{"sessionKey":null,"User":null,"Player":null,"Session":null,"TranscodeSession":null,"Media":null}]}}`, 1, false},
		{"wrong kinds", `{"MediaContainer":{"Metadata":[{"sessionKey":"1","title":42,"User":"alice","Player":7,"Media":{"x":1}},{"sessionKey":"2"}]}}`, 2, false},
		{"empty child array", `{"MediaContainer":{"Metadata":[{"sessionKey":"1","User":[]}]}}`, 1, false},
		{"bom and whitespace xml", "\ufeff  \n<MediaContainer size=\"1\"><Video sessionKey=\"1\"/></MediaContainer>", 1, false},
		{"truncated json", `{"MediaContainer":{"Metadata":[{"sessionKey":"1"`, 0, true},
		{"truncated xml", `<MediaContainer><Video sessionKey="1">`, 0, true},
		{"html error page", `<html><body>502 Bad Gateway</body></html>`, 0, true},
		{"garbage", `not a plex answer`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := DecodeSessions([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want it to wrap ErrMalformed", err)
			}
			if len(items) != tt.want {
				t.Errorf("got %d items, want %d", len(items), tt.want)
			}
		})
	}
}

func TestTolerantScalars(t *testing.T) {
	ints := map[string]int64{`12`: 12, `"12"`: 12, `12.0`: 12, `"1.0"`: 1, `""`: 0, `null`: 0, `"-1"`: 0, `-7`: 0, `"abc"`: 0, `true`: 0, `1e30`: 0}
	for in, want := range ints {
		var n Int
		if err := n.UnmarshalJSON([]byte(in)); err != nil || int64(n) != want {
			t.Errorf("Int(%s) = %d, %v; want %d", in, n, err, want)
		}
	}
	bools := map[string]bool{`true`: true, `false`: false, `1`: true, `0`: false, `"1"`: true, `"0"`: false, `"true"`: true, `"TRUE"`: true, `null`: false, `""`: false}
	for in, want := range bools {
		var b Bool
		if err := b.UnmarshalJSON([]byte(in)); err != nil || bool(b) != want {
			t.Errorf("Bool(%s) = %v, %v; want %v", in, b, err, want)
		}
	}
	floats := map[string]float64{`1.5`: 1.5, `"1.5"`: 1.5, `"-1.0"`: 0, `-2.5`: 0, `"NaN"`: 0, `"Inf"`: 0, `"-Inf"`: 0, `1e400`: 0, `null`: 0, `"x"`: 0}
	for in, want := range floats {
		var f Float
		if err := f.UnmarshalJSON([]byte(in)); err != nil || float64(f) != want {
			t.Errorf("Float(%s) = %v, %v; want %v", in, f, err, want)
		}
	}
	strs := map[string]string{`"a"`: "a", `12`: "12", `true`: "true", `null`: "", `{"x":1}`: "", `"a\"b"`: `a"b`}
	for in, want := range strs {
		var s String
		if err := s.UnmarshalJSON([]byte(in)); err != nil || string(s) != want {
			t.Errorf("String(%s) = %q, %v; want %q", in, s, err, want)
		}
	}
}

func TestDecodeTranscodeSessions(t *testing.T) {
	tests := []struct{ name, body string }{
		{"json", `{"MediaContainer":{"size":1,"TranscodeSession":[{"key":"tc9","videoDecision":"transcode","context":"streaming"}]}}`},
		{"xml", `<MediaContainer size="1"><TranscodeSession key="tc9" videoDecision="transcode" context="streaming"/></MediaContainer>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := DecodeTranscodeSessions([]byte(tt.body))
			if err != nil || len(ts) != 1 {
				t.Fatalf("got %v, %v; want one session", ts, err)
			}
			if got := ts[0].ID(); got != "tc9" {
				t.Errorf("ID() = %q, want tc9", got)
			}
		})
	}
}

func TestDecodeIdentityAndServerInfo(t *testing.T) {
	id, err := DecodeIdentity([]byte(`<MediaContainer size="0" claimed="1" machineIdentifier="m1" version="1.43.0"/>`))
	if err != nil || string(id.MachineIdentifier) != "m1" || !bool(id.Claimed) {
		t.Errorf("identity = %+v, %v", id, err)
	}
	si, err := DecodeServerInfo([]byte(`{"MediaContainer":{"friendlyName":"Den","machineIdentifier":"m1","myPlexSubscription":true,"eventStream":"1","ownerFeatures":"a,pass,session_kick"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if si.FriendlyName != "Den" || !bool(si.EventStream) || !si.HasFeature("pass") || si.HasFeature("pas") {
		t.Errorf("server info = %+v", si)
	}
}

// Round trip: what the simulator writes with these types reads back the same.
func TestMarshalRoundTrip(t *testing.T) {
	items, err := DecodeSessions(readFixture(t, "sessions.xml"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := marshalXMLForTest(items)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeSessions(out)
	if err != nil {
		t.Fatalf("decode of marshalled XML: %v\n%s", err, out)
	}
	for i := range items {
		back[i].XMLName = items[i].XMLName
	}
	if !reflect.DeepEqual(items, back) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", back, items)
	}
	if !strings.Contains(string(out), `local="1"`) {
		t.Errorf("booleans should marshal as \"1\": %s", out)
	}
}
