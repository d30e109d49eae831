package rules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

// kindConstants lists the Kind constants declared in file.go, so a new
// kind without a spec entry fails TestKindSpecsComplete.
func kindConstants(t *testing.T) []Kind {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "file.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []Kind
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, sp := range g.Specs {
			vs := sp.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Kind" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					t.Fatalf("Kind constant %v is not a string literal", v)
				}
				s, _ := strconv.Unquote(lit.Value)
				out = append(out, Kind(s))
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no Kind constants found in file.go")
	}
	return out
}

// TestKindSpecsComplete checks that every kind is one complete spec entry:
// a description, a validation, exactly one of a per-session test and a
// count, a reason that says something, and parameters the editor can edit.
func TestKindSpecsComplete(t *testing.T) {
	seen := map[Kind]int{}
	for i := range specs {
		sp := &specs[i]
		seen[sp.Kind]++
		if sp.Name == "" || sp.Description == "" || sp.DefaultMessage == "" {
			t.Errorf("kind %s: name, description or default message missing", sp.Kind)
		}
		if sp.validate == nil {
			t.Errorf("kind %s: no validate (use noParams for a kind without parameters)", sp.Kind)
		}
		if (sp.match == nil) == (sp.count == nil) {
			t.Errorf("kind %s: match set = %v, count set = %v; want exactly one", sp.Kind, sp.match != nil, sp.count != nil)
		}
		if sp.reason == nil {
			t.Errorf("kind %s: no reason", sp.Kind)
			continue
		}
		if sp.validate == nil {
			continue
		}
		c, err := compile(DefaultRule(sp.Kind, "x"))
		if err != nil {
			t.Errorf("kind %s: DefaultRule is invalid: %v", sp.Kind, err)
			continue
		}
		s := sess("1", transcoding, uhdHEVC)
		if got := sp.reason(c, &s, t0); got == "" {
			t.Errorf("kind %s: reason = \"\", want words", sp.Kind)
		}
		for _, p := range sp.Params {
			if !knownParamTypes[p.Type] {
				t.Errorf("kind %s: param %s has type %q, not a ParamType", sp.Kind, p.Field, p.Type)
			}
			if needsChoices(p.Type) != (len(p.Choices) > 0) {
				t.Errorf("kind %s: param %s of type %s has %d choices", sp.Kind, p.Field, p.Type, len(p.Choices))
			}
		}
	}
	for _, k := range kindConstants(t) {
		if seen[k] != 1 {
			t.Errorf("kind %s has %d spec entries, want 1", k, seen[k])
		}
	}
}

var knownParamTypes = map[ParamType]bool{
	ParamBool: true, ParamInt: true, ParamKbps: true, ParamDuration: true, ParamResolution: true, ParamCodecs: true,
	ParamNetworks: true, ParamPlayers: true, ParamList: true, ParamPick: true, ParamCondition: true, ParamSchedule: true,
	ParamAction: true, ParamTemplate: true, ParamTemplates: true, ParamScope: true, ParamExempt: true, ParamText: true,
	ParamDevices: true, ParamPeriod: true, ParamCoolDownScope: true,
}

// needsChoices reports a type edited by picking one of Param.Choices.
func needsChoices(t ParamType) bool {
	return t == ParamPick || t == ParamCondition || t == ParamResolution || t == ParamPeriod || t == ParamCoolDownScope
}

func TestParamsEditable(t *testing.T) {
	lists := [][]Param{Common, ListFields, otherFields}
	for _, ki := range Kinds() {
		lists = append(lists, ki.Params)
	}
	for _, list := range lists {
		for _, p := range list {
			if !knownParamTypes[p.Type] {
				t.Errorf("param %s has type %q, not a ParamType", p.Field, p.Type)
			}
			if needsChoices(p.Type) != (len(p.Choices) > 0) {
				t.Errorf("param %s of type %s has %d choices", p.Field, p.Type, len(p.Choices))
			}
			if !strings.Contains(p.Field, ".") && RuleField(&Rule{}, p.Field) == nil {
				t.Errorf("param %s is not a Rule field", p.Field)
			}
		}
	}
}

func TestLookups(t *testing.T) {
	ki, ok := LookupKind(KindBandwidth)
	if !ok || ki.Name != "Bandwidth" {
		t.Errorf("LookupKind(bandwidth) = %q, %v; want Bandwidth, true", ki.Name, ok)
	}
	if _, ok := LookupKind("nope"); ok {
		t.Error("LookupKind(nope) found a kind")
	}
	tests := []struct {
		kind              Kind
		field             string
		wantLabel, wantDf string
		wantHelp          string
	}{
		{KindBandwidth, "maxKbps", "Limit (kbps)", "20000", "kilobits per second: 20000 is 20 Mbps"},
		{KindPaused, "pausedFor", "Paused for at least", (30 * time.Minute).String(), ""},
		{KindSourceTranscode, "codecs", "Source codec is one of", "hevc, av1", "e.g. hevc, av1, vp9"},
		{KindAddress, "denyNetworks", "Deny", "198.51.100.0/24", "IP addresses or CIDRs, one a line or with commas"},
		{KindTimeWindow, "schedule", "When", "01:00–06:00", ""},
		{KindTranscode, "grace", "Grace delay", "", "act only if the session still matches after this long; 0 acts at once"},
		{KindTranscode, "scope.players", "Players", "", "family (web, roku, …), product, platform, device or name; * wildcards"},
		{KindTranscode, "exempt.lan", "Never: streams on the LAN", "", ""},
		{KindTranscode, "name", "Name", "", ""},
	}
	for _, tt := range tests {
		p, ok := LookupParam(tt.kind, tt.field)
		if !ok || p.Label != tt.wantLabel || p.Default != tt.wantDf || p.Help != tt.wantHelp {
			t.Errorf("LookupParam(%s, %s) = %q default %q help %q, %v; want %q default %q help %q",
				tt.kind, tt.field, p.Label, p.Default, p.Help, ok, tt.wantLabel, tt.wantDf, tt.wantHelp)
		}
	}
	if _, ok := LookupParam(KindTranscode, "maxKbps"); ok {
		t.Error("LookupParam(transcode, maxKbps) found a parameter of another kind")
	}
	if got := KindName("nope"); got != "nope" {
		t.Errorf("KindName(nope) = %q, want nope", got)
	}
	for _, tt := range []struct {
		a    Action
		want string
	}{{"", "terminate"}, {ActionStopTranscode, "stop transcode"}, {ActionLog, "log only"}, {"odd", "odd"}} {
		if got := ActionShort(tt.a); got != tt.want {
			t.Errorf("ActionShort(%q) = %q, want %q", tt.a, got, tt.want)
		}
	}
	if len(Actions()) != 5 {
		t.Errorf("Actions() has %d actions, want 5", len(Actions()))
	}
}

func TestExpandDays(t *testing.T) {
	tests := []struct {
		days []string
		want string
	}{
		{nil, ""},
		{[]string{"weekdays"}, "mon tue wed thu fri"},
		{[]string{"Weekend", "Monday"}, "mon sat sun"},
		{[]string{"fri", "nope"}, "fri"},
	}
	for _, tt := range tests {
		on := ExpandDays(tt.days)
		var got []string
		for _, d := range Weekdays {
			if on[d] {
				got = append(got, d)
			}
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("ExpandDays(%q) = %q, want %q", tt.days, g, tt.want)
		}
	}
}

func TestRuleField(t *testing.T) {
	r := DefaultRule(KindBandwidth, "x")
	p, ok := RuleField(&r, "maxKbps").(*int64)
	if !ok || *p != 20000 {
		t.Fatalf("RuleField(maxKbps) = %v, want *int64 20000", RuleField(&r, "maxKbps"))
	}
	*p = 5
	if r.MaxKbps != 5 {
		t.Errorf("writing through RuleField: MaxKbps = %d, want 5", r.MaxKbps)
	}
	if RuleField(&r, "nope") != nil {
		t.Error("RuleField(nope) is not nil")
	}
}

func TestLivePlayers(t *testing.T) {
	st := &app.State{Servers: []*app.Snapshot{
		app.Snapshot{Server: "home"}.WithSessions(sess("1", player("Plex for Roku", "Roku")), sess("2", machine("")), sess("3", machine("m1"))),
		app.Snapshot{Server: "away"}.WithSessions(sess("4", onServer("away"), func(s *app.Session) { s.Player.Title, s.Player.MachineIdentifier = "Den", "m4" })),
	}}
	var got []string
	for _, p := range LivePlayers(st) {
		got = append(got, p.MachineIdentifier+"="+p.Label+"/"+p.Family)
	}
	// Session 3 plays on the Roku of session 1 (both "m1"): listed once;
	// session 2's player has no id.
	want := []string{"m4=Den (Plex Web) · alice on away/web", "m1=Plex for Roku (Roku) · alice on home/roku"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("LivePlayers = %q, want %q", got, want)
	}
	if LivePlayers(nil) != nil {
		t.Error("LivePlayers(nil) is not nil")
	}
}
