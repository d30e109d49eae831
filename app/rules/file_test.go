package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadMissingFile(t *testing.T) {
	f, err := Load(filepath.Join(t.TempDir(), "rules.json"))
	if err != nil || f.Version != Version || len(f.Rules) != 0 {
		t.Errorf("Load(missing) = %+v, %v; want an empty version %d file, nil", f, err, Version)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "rules.json")
	want := File{Version: Version, DryRun: true}
	for _, k := range Kinds() {
		r := DefaultRule(k.Kind, "rule "+string(k.Kind))
		want.Rules = append(want.Rules, r)
	}
	want.Rules[0].Grace = Duration(90 * time.Second)
	want.Rules[0].Messages = map[string]string{"roku": "Roku: {quality}", "Plex for Xbox": "Xbox {user}"}
	want.Rules[0].Scope = Scope{Users: []string{"alice"}, MediaTypes: []string{"movie"}}
	want.Rules[0].Exempt = Exempt{LAN: true, Players: []string{"tvos"}}
	want.Rules[1].Enabled = false
	want.Rules[1].Schedule = &Schedule{Days: []string{"fri", "sat"}, From: "20:00", To: "02:00"}
	if err := Save(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load(Save(f)) =\n%+v\nwant\n%+v", got, want)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %o, want 600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	for _, s := range []string{`"version": 1`, `"grace": "1m30s"`, `"enabled": false`, `"kind": "transcode"`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("saved file lacks %s:\n%s", s, b)
		}
	}
}

func TestSaveKeepsBackup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.json")
	broken := []byte("{ this is not json")
	if err := os.WriteFile(path, broken, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil {
		t.Fatal("Load of a broken file succeeded")
	}
	if b, _ := os.ReadFile(path); string(b) != string(broken) {
		t.Fatal("Load changed the broken file")
	}
	if err := Save(path, File{Rules: []Rule{DefaultRule(KindTranscode, "a")}}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path + ".bak"); string(b) != string(broken) {
		t.Errorf("backup = %q, want the previous content", b)
	}
	if err := Save(path, File{Rules: []Rule{{Name: "bad"}}}); err == nil {
		t.Error("Save accepted an invalid file")
	}
	if f, err := Load(path); err != nil || len(f.Rules) != 1 {
		t.Errorf("after a refused Save: %+v, %v; want the saved rule", f, err)
	}
}

func TestDefaultsWhenAbsent(t *testing.T) {
	f, err := Parse([]byte(`{"rules":[{"name":"t","kind":"transcode"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	r := f.Rules[0]
	if !r.Enabled || r.Action != ActionTerminate || f.Version != Version {
		t.Errorf("rule = %+v (version %d), want enabled, terminate, version %d", r, f.Version, Version)
	}
	f, err = Parse([]byte(`{"rules":[{"name":"p","kind":"paused","pausedFor":600,"grace":"0s"}]}`))
	if err != nil || f.Rules[0].PausedFor.Std() != 10*time.Minute {
		t.Errorf("pausedFor 600 = %v, %v; want 10m (a bare number is seconds)", f.Rules[0].PausedFor.Std(), err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		rule    int    // want FileError.Rule
		field   string // want FileError.Field
		text    string // substring of the message
	}{
		{"empty", "  \n", -1, "", "empty"},
		{"syntax", "{\n  \"rules\": [\n    {\"name\": \"a\",, }\n  ]\n}", -1, "", "line 3, column"},
		{"truncated", `{"rules": [{"name": "a"`, -1, "", "ends too early"},
		{"unknown top field", `{"rulez": []}`, -1, "", `unknown field "rulez"`},
		{"newer schema", `{"version": 2, "rules": []}`, -1, "version", "newer Plex Warden"},
		{"bad schema", `{"version": 0, "rules": []}`, -1, "version", "not a schema version"},
		{"unknown rule field", `{"rules": [{"name": "a", "kind": "transcode", "maxKpbs": 3}]}`, 0, "", `unknown field "maxKpbs"`},
		{"wrong type", `{"rules": [{"name": "a", "kind": "bandwidth", "maxKbps": "lots"}]}`, 0, "maxKbps", "a whole number"},
		{"bad duration", `{"rules": [{"name": "slow", "kind": "transcode", "grace": "5 minutes"}]}`, 0, "grace", `"5 minutes" is not a duration`},
		{"no name", `{"rules": [{"kind": "transcode"}]}`, 0, "name", "needs a name"},
		{"duplicate name", `{"rules": [{"name": "A", "kind": "transcode"}, {"name": "a", "kind": "remote"}]}`, 1, "name", "already used by rules[0]"},
		{"no kind", `{"rules": [{"name": "a"}]}`, 0, "kind", "missing"},
		{"unknown kind", `{"rules": [{"name": "a", "kind": "vibes"}]}`, 0, "kind", `unknown kind "vibes"`},
		{"unknown action", `{"rules": [{"name": "a", "kind": "transcode", "action": "nuke"}]}`, 0, "action", `unknown action "nuke"`},
		{"negative grace", `{"rules": [{"name": "a", "kind": "transcode", "grace": "-1s"}]}`, 0, "grace", "out of range"},
		{"unknown placeholder", `{"rules": [{"name": "a", "kind": "transcode", "message": "Hi {usr}"}]}`, 0, "message", "{usr}"},
		{"unknown placeholder in override", `{"rules": [{"name": "a", "kind": "transcode", "messages": {"roku": "{qualty}"}}]}`, 0, "messages.roku", "{qualty}"},
		{"source without limits", `{"rules": [{"name": "a", "kind": "sourceTranscode"}]}`, 0, "minResolution", "set minResolution"},
		{"bad resolution", `{"rules": [{"name": "a", "kind": "sourceTranscode", "minResolution": "huge"}]}`, 0, "minResolution", `"huge" is not a resolution`},
		{"require both without both", `{"rules": [{"name": "a", "kind": "sourceTranscode", "minResolution": "4K", "requireBoth": true}]}`, 0, "requireBoth", "needs both"},
		{"bandwidth without limit", `{"rules": [{"name": "a", "kind": "bandwidth"}]}`, 0, "maxKbps", "above 0"},
		{"paused without duration", `{"rules": [{"name": "a", "kind": "paused"}]}`, 0, "pausedFor", "at least 1s"},
		{"user streams zero", `{"rules": [{"name": "a", "kind": "userStreams", "maxStreams": 0}]}`, 0, "maxStreams", "at least 1"},
		{"server transcodes missing", `{"rules": [{"name": "a", "kind": "serverTranscodes"}]}`, 0, "maxTranscodes", "at least 1"},
		{"bad pick", `{"rules": [{"name": "a", "kind": "userStreams", "maxStreams": 1, "pick": "random"}]}`, 0, "pick", "newest"},
		{"address without lists", `{"rules": [{"name": "a", "kind": "address"}]}`, 0, "denyNetworks", "set denyNetworks"},
		{"bad CIDR", `{"rules": [{"name": "a", "kind": "address", "denyNetworks": ["10.0.0.0/8", "10.0.0/33"]}]}`, 0, "denyNetworks[1]", "not an IP address or CIDR"},
		{"player without players", `{"rules": [{"name": "a", "kind": "player"}]}`, 0, "players", "list the players"},
		{"bad player pattern", `{"rules": [{"name": "a", "kind": "player", "players": ["[roku"]}]}`, 0, "players[0]", "bad pattern"},
		{"empty scope player", `{"rules": [{"name": "a", "kind": "transcode", "scope": {"players": [""]}}]}`, 0, "scope.players[0]", "empty pattern"},
		{"bad media type", `{"rules": [{"name": "a", "kind": "transcode", "scope": {"mediaTypes": ["films"]}}]}`, 0, "scope.mediaTypes[0]", `"films"`},
		{"time window without schedule", `{"rules": [{"name": "a", "kind": "timeWindow"}]}`, 0, "schedule", "needs a schedule"},
		{"bad time", `{"rules": [{"name": "a", "kind": "timeWindow", "schedule": {"from": "25:00", "to": "06:00"}}]}`, 0, "schedule.from", `"25:00" is not a time`},
		{"missing time", `{"rules": [{"name": "a", "kind": "timeWindow", "schedule": {"from": "22:00"}}]}`, 0, "schedule.to", "missing"},
		{"24:00 as start", `{"rules": [{"name": "a", "kind": "timeWindow", "schedule": {"from": "24:00", "to": "06:00"}}]}`, 0, "schedule.from", "not a time"},
		{"bad day", `{"rules": [{"name": "a", "kind": "timeWindow", "schedule": {"days": ["funday"], "from": "1:00", "to": "2:00"}}]}`, 0, "schedule.days[0]", `"funday" is not a day`},
		{"second rule named", `{"rules": [{"name": "ok", "kind": "transcode"}, {"name": "Late night", "kind": "bandwidth", "maxKbps": -5}]}`, 1, "maxKbps", "above 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rules.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Load = %v, want a *FileError", err)
			}
			if fe.Path != path || fe.Rule != tt.rule || fe.Field != tt.field {
				t.Errorf("error at path %q rule %d field %q, want %q, %d, %q (%v)", fe.Path, fe.Rule, fe.Field, path, tt.rule, tt.field, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.text) || !strings.Contains(msg, path) || !strings.Contains(msg, "not changed") {
				t.Errorf("message %q lacks %q, the path or \"not changed\"", msg, tt.text)
			}
			if tt.rule >= 0 && !strings.Contains(msg, "rules["+string(rune('0'+tt.rule))+"]") {
				t.Errorf("message %q does not name rule %d", msg, tt.rule)
			}
			if b, _ := os.ReadFile(path); string(b) != tt.content {
				t.Error("Load changed the file")
			}
		})
	}
}

func TestErrorNamesTheRule(t *testing.T) {
	_, err := Parse([]byte(`{"rules": [{"name": "ok", "kind": "transcode"}, {"name": "Late night", "kind": "bandwidth", "maxKbps": -5}]}`))
	want := `rules[1] ("Late night"): field "maxKbps": set a limit above 0`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want it to contain %s", err, want)
	}
}

func TestKindsComplete(t *testing.T) {
	seen := map[Kind]bool{}
	for _, k := range Kinds() {
		if k.Name == "" || k.Description == "" || k.DefaultMessage == "" {
			t.Errorf("kind %s lacks a name, description or default message", k.Kind)
		}
		if err := checkTemplate(k.DefaultMessage); err != nil {
			t.Errorf("default message of %s: %v", k.Kind, err)
		}
		r := DefaultRule(k.Kind, "x")
		if _, err := compile(r); err != nil {
			t.Errorf("DefaultRule(%s) is invalid: %v", k.Kind, err)
		}
		fields := jsonFields()
		for _, p := range k.Params {
			if !fields[p.Field] {
				t.Errorf("kind %s: param %q is not a Rule field", k.Kind, p.Field)
			}
		}
		seen[k.Kind] = true
	}
	for _, k := range []Kind{KindTranscode, KindSourceTranscode, KindBandwidth, KindPaused, KindUserStreams, KindServerTranscodes,
		KindRemote, KindAddress, KindPlayer, KindTimeWindow} {
		if !seen[k] {
			t.Errorf("Kinds() lacks %s", k)
		}
	}
	for _, p := range Common {
		if !jsonFields()[p.Field] {
			t.Errorf("common param %q is not a Rule field", p.Field)
		}
	}
}

func jsonFields() map[string]bool {
	out := map[string]bool{}
	rt := reflect.TypeFor[Rule]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		out[name] = true
	}
	return out
}

// TestDocumentedExample keeps docs/RULES.md honest: its complete example
// must load, and use every kind.
func TestDocumentedExample(t *testing.T) {
	b, err := os.ReadFile("../../docs/RULES.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "## Complete example")
	if !ok {
		t.Fatal("docs/RULES.md has no \"Complete example\" section")
	}
	_, rest, _ = strings.Cut(rest, "```json\n")
	example, _, _ := strings.Cut(rest, "```")
	f, err := Parse([]byte(example))
	if err != nil {
		t.Fatalf("the documented example does not load: %v", err)
	}
	kinds := map[Kind]bool{}
	for _, r := range f.Rules {
		kinds[r.Kind] = true
	}
	for _, k := range Kinds() {
		if !kinds[k.Kind] {
			t.Errorf("the example has no %s rule", k.Kind)
		}
	}
}

func TestLocalSection(t *testing.T) {
	tests := []struct {
		name, body, wantErr string
		check               func(File) string
	}{
		{"absent: all off", `{"version":1,"rules":[]}`, "", func(f File) string {
			if p := f.Local.Policy(false); p.Orphan.Enabled || p.Idle.Enabled || p.CPUHog.Enabled || p.MaxConcurrent.Enabled {
				return fmt.Sprintf("policy %+v has a rule on", p)
			}
			return ""
		}},
		{"orphan and max", `{"version":1,"dryRun":true,"rules":[],"local":{"orphan":{"enabled":true,"after":"45s"},"maxConcurrent":{"enabled":true,"max":3,"victim":"oldest"}}}`, "", func(f File) string {
			p := f.Local.Policy(f.DryRun)
			if !p.DryRun || !p.Orphan.Enabled || p.Orphan.After != 45*time.Second || p.MaxConcurrent.Max != 3 || p.MaxConcurrent.Victim != "oldest" || p.Idle.Enabled {
				return fmt.Sprintf("policy = %+v", p)
			}
			return ""
		}},
		{"bad victim", `{"version":1,"rules":[],"local":{"maxConcurrent":{"enabled":true,"victim":"random"}}}`, "local.maxConcurrent.victim", nil},
		{"negative percent", `{"version":1,"rules":[],"local":{"cpuHog":{"enabled":true,"percent":-5}}}`, "local.cpuHog.percent", nil},
		{"unknown field", `{"version":1,"rules":[],"local":{"zombie":{}}}`, "zombie", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(f); msg != "" {
				t.Error(msg)
			}
		})
	}
}
