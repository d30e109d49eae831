package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/plexwarden/plexwarden/app"
)

// The fuzz targets run their seeds (f.Add and testdata/fuzz/<Target>/) as
// ordinary tests in `make test`; `make fuzz` runs each with -fuzz.

// fuzzSessions is a varied live state the fuzzed rules are evaluated on:
// transcodes, audio-only, burn-in, LAN and remote, IPv6, paused, several
// users and servers, one session without an id or an address.
func fuzzSessions() []app.Session {
	at := t0.Add(-time.Hour)
	return []app.Session{
		sess("1"),
		sess("2", transcoding, uhdHEVC),
		sess("3", audioOnly, lan),
		sess("4", burnOnlyTranscode, user("bob", "200")),
		sess("5", directStream, paused(at), player("Plex for Roku", "Roku")),
		sess("6", transcoding, addr("2001:db8::7"), user("bob", "200"), onServer("basement")),
		sess("7", noID, addr(""), paused(at), player("Plex for LG", "webOS")),
		sess("8", transcoding, lan, user("", ""), player("Plexamp", "macOS")),
	}
}

// fuzzRulesSeeds are rules files to start from: the example of
// docs/RULES.md (read at run time, so the documented file is checked too)
// and small edge cases.
func fuzzRulesSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{
		[]byte(`{"version":1,"rules":[]}`),
		[]byte(`{"version":1,"dryRun":true,"rules":[{"name":"T","kind":"transcode","grace":"30s","message":"{user}: {quality}","messages":{"roku":"Roku {title}","Plex Web":"web {reason}"}}]}`),
		[]byte(`{"rules":[{"name":"P","kind":"paused","pausedFor":90,"onlyRemote":true,"exempt":{"lan":true,"users":["alice"],"players":["roku*"]}}]}`),
		[]byte(`{"version":1,"rules":[{"name":"U","kind":"userStreams","maxStreams":1,"countIPs":true,"pick":"oldest","scope":{"mediaTypes":["video"],"servers":["home"]}}]}`),
		[]byte(`{"version":1,"rules":[{"name":"S","kind":"serverTranscodes","maxTranscodes":1,"includeAudioOnly":true,"countSubtitleBurn":true}]}`),
		[]byte(`{"version":1,"rules":[{"name":"A","kind":"address","denyNetworks":["203.0.113.0/24","2001:db8::/32","::ffff:10.0.0.0/104"],"allowNetworks":["192.168.1.7"]}]}`),
		[]byte(`{"version":1,"rules":[{"name":"W","kind":"timeWindow","schedule":{"days":["fri","weekend"],"from":"22:00","to":"06:00"}},{"name":"X","kind":"timeWindow","schedule":{"from":"00:00","to":"24:00"}}]}`),
		[]byte(`{"version":1,"rules":[{"name":"4K","kind":"sourceTranscode","minResolution":"4K","codecs":["h265","av1"],"requireBoth":true},{"name":"B","kind":"bandwidth","maxKbps":1,"useSourceBitrate":true,"action":"notify"},{"name":"R","kind":"remote","allowNetworks":["198.51.100.0/24"],"action":"log"},{"name":"Pl","kind":"player","players":["web","Plex for ?oku"],"action":"stopTranscode","fallbackStopTranscode":true}]}`),
		[]byte(`{"version":1,"rules":[],"local":{"orphan":{"enabled":true,"after":"2m"},"cpuHog":{"enabled":true,"percent":250.5},"maxConcurrent":{"enabled":true,"max":3,"victim":"oldest"}}}`),
		[]byte(`{"version":2}`),
		[]byte(`{"version":1,"rules":[{"name":"a","kind":"transcode"},{"name":"A","kind":"transcode"}]}`),
		[]byte(`{"version":1,"rules":[{"name":"g","kind":"transcode","grace":"5 minutes"}]}`),
		[]byte("{\"version\":1,\n\"rules\":[{\"name\":\"x\",\"kind\":\"transcode\",}]}"),
		[]byte(`{"version":1} {"rules":[]}`),
		[]byte(``),
	}
	if b, err := os.ReadFile(filepath.Join("..", "..", "docs", "RULES.md")); err == nil {
		for _, block := range regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(b, -1) {
			seeds = append(seeds, block[1])
		}
	} else {
		f.Logf("docs/RULES.md not read: %v", err)
	}
	return seeds
}

// FuzzParse feeds arbitrary bytes to the rules file parser. An error must
// be a *FileError without a path; a file that parses must be valid and one
// JSON value, must mean the same after Save and Load (and a loaded file
// saves to the same bytes every time), and its rules must evaluate, render
// and run in an Engine on a varied state without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzRulesSeeds(f) {
		f.Add(s)
	}
	sessions := fuzzSessions()
	st := &app.State{Servers: []*app.Snapshot{app.Snapshot{Server: "home", Conn: app.Conn{Status: app.Connected}}.WithSessions(sessions...)}}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse error %T %q is not a *FileError", err, err)
			}
			if fe.Path != "" || err.Error() == "" {
				t.Fatalf("Parse error %#v: want no path and a message", fe)
			}
			return
		}
		if err := file.Validate(); err != nil {
			t.Fatalf("Parse accepted a file Validate refuses: %v", err)
		}
		if !singleJSONValue(b) {
			t.Fatalf("Parse accepted data after the JSON object: %q", b)
		}

		// One JSON value only: what Parse accepts is what Save writes back.
		dir := t.TempDir()
		path := filepath.Join(dir, FileName)
		if err := Save(path, file); err != nil {
			t.Fatalf("Save of a parsed file: %v", err)
		}
		saved, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Load(path)
		if err != nil {
			t.Fatalf("Load of a saved file: %v\nsaved:\n%s", err, saved)
		}
		if got, want := canonical(t, again), canonical(t, file); got != want {
			t.Fatalf("Save and Load changed the file:\nparsed %s\nloaded %s", want, got)
		}
		// A file as loaded from disk saves to the same bytes every time
		// (no .bak churn). The first save may differ from the input in
		// form only: an empty list is written as none.
		if err := Save(path, again); err != nil {
			t.Fatal(err)
		}
		saved2, _ := os.ReadFile(path)
		again2, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := Save(path, again2); err != nil {
			t.Fatal(err)
		}
		if b3, _ := os.ReadFile(path); !bytes.Equal(b3, saved2) {
			t.Fatalf("saving a loaded file again wrote other bytes:\n%s\nthen\n%s", saved2, b3)
		}

		// The rules evaluate and render on a real-looking state.
		for _, now := range []time.Time{t0, t0.Add(26 * time.Hour), time.Date(2026, 3, 8, 23, 59, 59, 0, time.UTC)} {
			if _, err := Evaluate(file, st, now); err != nil {
				t.Fatalf("Evaluate of a valid file: %v", err)
			}
		}
		for _, r := range file.Rules {
			for _, s := range sessions {
				if msg := RenderMessage(r, s); !utf8.ValidString(msg) {
					t.Fatalf("RenderMessage gave invalid UTF-8 %q", msg)
				}
			}
		}
		e := NewEngine(Options{Actor: nopActor{}, Clock: func() time.Time { return t0 }})
		if err := e.SetRules(file); err != nil {
			t.Fatalf("SetRules of a parsed file: %v", err)
		}
		e.Observe(update("home", sessions...))
		_ = e.Preview(st)
		e.Close()
	})
}

// nopActor answers every action "done" and finds nothing live.
type nopActor struct{}

func (nopActor) Terminate(context.Context, app.Session, string) app.Result {
	return app.Result{Outcome: app.OutcomeDone}
}

func (nopActor) StopTranscode(context.Context, app.Session) app.Result {
	return app.Result{Outcome: app.OutcomeDone}
}

func (nopActor) Find(string) (app.Session, bool) { return app.Session{}, false }

// canonical is f as JSON with the defaults Save writes (action
// "terminate") and without empty lists and objects (an empty list means
// the same as none: `"scope": {"servers": []}` is no scope), so files that
// mean the same compare equal.
func canonical(t *testing.T, f File) string {
	t.Helper()
	f.Version = Version
	f.Rules = append([]Rule(nil), f.Rules...)
	for i := range f.Rules {
		if f.Rules[i].Action == "" {
			f.Rules[i].Action = ActionTerminate
		}
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	b, err = json.Marshal(prune(v))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// prune drops empty lists, empty objects and nulls from a decoded JSON
// value, recursively; it returns nil when nothing is left.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e = prune(e); e == nil {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		if len(x) == 0 {
			return nil
		}
	case []any:
		out := x[:0]
		for _, e := range x {
			if e = prune(e); e != nil {
				out = append(out, e)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return v
}

// FuzzLoadConfig feeds arbitrary bytes to app.LoadConfig through a file
// (app's configuration and the rules share the config directory; the
// target lives here so that one file holds the parsers' fuzzing). An error
// must be an *app.ConfigError naming the file, which stays untouched; a
// file that loads must be valid and survive SaveConfig and LoadConfig
// unchanged.
func FuzzLoadConfig(f *testing.F) {
	for _, s := range []string{
		`{"version":1,"servers":[{"name":"Home","url":"http://192.168.1.5:32400","machineId":"abc"}],"notifications":{"newSession":true},"startAtLogin":false,"rulesPaused":true,"reconcileInterval":"45s"}`,
		`{"version":1,"clientId":"x","servers":[{"name":"a","url":"https://a.example:32400","insecure":true,"caFile":"/etc/ssl/x.pem"},{"name":"b","url":"b:1"}],"reconcileInterval":2.5}`,
		`{"version":1,"servers":[{"name":"a","url":"u"},{"name":"a","url":"v"}]}`,
		`{"version":2}`,
		`{"version":1,"reconcileInterval":"0.5s"}`,
		`{"version":1,"servers":null,"unknown":1}`,
		"{\n  \"version\": 1,\n  \"servers\": [\n}",
		`{"version":1} trailing`,
		`{"version":1}}`,
		``,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "config.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := app.LoadConfig(path)
		if err != nil {
			var ce *app.ConfigError
			if !errors.As(err, &ce) || ce.Path != path || !strings.Contains(err.Error(), path) {
				t.Fatalf("LoadConfig error %T %q: want an *app.ConfigError naming %s", err, err, path)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, b) {
				t.Fatal("LoadConfig changed a file it refused")
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("LoadConfig accepted a configuration Validate refuses: %v", err)
		}
		// A file that loads is exactly one JSON value: anything after it
		// would be silently dropped by the next save.
		if !singleJSONValue(b) {
			t.Fatalf("LoadConfig accepted data after the JSON value: %q", b)
		}
		path2 := filepath.Join(dir, "saved.json")
		if err := app.SaveConfig(path2, cfg); err != nil {
			t.Fatalf("SaveConfig of a loaded configuration: %v", err)
		}
		again, err := app.LoadConfig(path2)
		if err != nil {
			saved, _ := os.ReadFile(path2)
			t.Fatalf("LoadConfig of a saved configuration: %v\n%s", err, saved)
		}
		j1, _ := json.Marshal(cfg)
		j2, _ := json.Marshal(again)
		if !bytes.Equal(j1, j2) {
			t.Fatalf("SaveConfig and LoadConfig changed the configuration:\n%s\n%s", j1, j2)
		}
	})
}

// singleJSONValue reports whether b holds one JSON value and nothing but
// white space after it.
func singleJSONValue(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	if err := dec.Decode(&v); err != nil {
		return false
	}
	_, err := dec.Token()
	return err == io.EOF
}

// FuzzRenderMessage renders arbitrary templates for arbitrary sessions,
// through every kind's reason. It must never panic, must be deterministic
// and give valid UTF-8 for valid input, leaves no double or edge spaces,
// and, for a template the rules file accepts, fills in every placeholder:
// none may reach the player (unless a session's own text contains one).
func FuzzRenderMessage(f *testing.F) {
	f.Add("{user}, {title} on {player} ({platform}, {product}) by {rule}: {reason}. {quality}", "alice", "Movie", "Plex for Roku", "Roku", "Roku Ultra", "Den", "203.0.113.5", uint8(0), true)
	f.Add("", "bob", "Show - S01E02 - Pilot", "Plex Web", "Chrome", "", "", "192.168.1.2", uint8(2), false)
	f.Add("Bye {USER} ({platform})", "", "", "", "", "", "", "", uint8(7), false)
	f.Add("{unknown} {user", "x", "{title}", "p", "q", "r", "s", "::1", uint8(9), true)
	f.Add("  spaced   out\t{quality}\n() ", "é", "ü", "Plexamp", "macOS", "Mac", "MacBook", "fe80::1%eth0", uint8(4), true)
	f.Fuzz(func(t *testing.T, tmpl, user, title, product, platform, device, playerTitle, address string, kind uint8, transcode bool) {
		ks := Kinds()
		r := DefaultRule(ks[int(kind)%len(ks)].Kind, "Rule "+user)
		r.Message = tmpl
		r.Messages = map[string]string{"roku": tmpl + " {product}"}
		if strings.TrimSpace(device) != "" {
			r.Messages[device] = tmpl
		}
		s := sess("7", func(s *app.Session) {
			s.User, s.Title = user, title
			s.Player = app.Player{Title: playerTitle, Product: product, Platform: platform, Device: device, Address: address}
		})
		if transcode {
			transcoding(&s)
		}
		msg := RenderMessage(r, s)
		if again := RenderMessage(r, s); again != msg {
			t.Fatalf("RenderMessage is not deterministic: %q then %q", msg, again)
		}
		valid := true
		for _, v := range []string{tmpl, user, title, product, platform, device, playerTitle, address} {
			valid = valid && utf8.ValidString(v)
		}
		if valid && !utf8.ValidString(msg) {
			t.Fatalf("invalid UTF-8 from valid input: %q", msg)
		}
		if msg != strings.TrimSpace(msg) || strings.Contains(msg, "  ") {
			t.Fatalf("message has edge or double spaces: %q", msg)
		}
		if _, err := compile(r); err != nil {
			return // the rules file refuses this template: never rendered for real
		}
		clean := true // no placeholder-looking text in what the session brings
		for _, v := range []string{user, title, product, platform, device, playerTitle, address, r.Name} {
			clean = clean && !strings.ContainsAny(v, "{}")
		}
		if !clean {
			return
		}
		if p := placeholderRE.FindString(msg); p != "" && knownPlaceholders[strings.ToLower(p)] {
			t.Fatalf("placeholder %s reached the player: template %q gave %q", p, tmpl, msg)
		}
	})
}
