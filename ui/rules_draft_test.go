package ui

import (
	"reflect"
	"slices"
	"testing"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/rules"
)

func TestFieldHelpers(t *testing.T) {
	keys := []struct{ field, want string }{
		{"grace", "grace"},
		{"scope.players[2]", "scope.players"},
		{"codecs[0]", "codecs"},
		{"messages.roku", "messages"},
		{"schedule.days[1]", "schedule.days"},
	}
	for _, tt := range keys {
		if got := fieldKey(tt.field); got != tt.want {
			t.Errorf("fieldKey(%q) = %q, want %q", tt.field, got, tt.want)
		}
	}
	labels := []struct {
		kind      rules.Kind
		key, want string
	}{
		{rules.KindBandwidth, "maxKbps", "Limit (kbps)"},
		{rules.KindTranscode, "grace", "Grace delay"},
		{rules.KindTranscode, "scope.players", "Applies to: players"},
		{rules.KindTranscode, "exempt.users", "Never: users"},
		{rules.KindTranscode, "schedule.from", "Active: from"},
		{rules.KindTranscode, "name", "Name"},
		{rules.KindTranscode, "somethingNew", "somethingNew"},
	}
	for _, tt := range labels {
		if got := fieldLabel(tt.kind, tt.key); got != tt.want {
			t.Errorf("fieldLabel(%s, %q) = %q, want %q", tt.kind, tt.key, got, tt.want)
		}
	}
	if got := uniqueName("Bandwidth", []string{"bandwidth", "Bandwidth 2", " other"}); got != "Bandwidth 3" {
		t.Errorf("uniqueName = %q, want Bandwidth 3", got)
	}
}

// TestEveryParamEditable checks that each parameter rules.Kinds() and
// rules.Common name is a field of rules.Rule of a type the editor knows.
func TestEveryParamEditable(t *testing.T) {
	types := map[rules.ParamType][]string{
		"bool": {"*bool"}, "int": {"*int"}, "kbps": {"*int64"}, "duration": {"*rules.Duration"},
		"resolution": {"*string"}, "pick": {"*string"}, "condition": {"*string"},
		"codecs": {"*[]string"}, "networks": {"*[]string"}, "players": {"*[]string"}, "schedule": {"**rules.Schedule"}, "period": {"*string"},
	}
	var r rules.Rule
	for _, ki := range rules.Kinds() {
		for _, p := range ki.Params {
			ptr := rules.RuleField(&r, p.Field)
			got := reflect.TypeOf(ptr).String()
			if !slices.Contains(types[p.Type], got) {
				t.Errorf("%s.%s: type %q is a %s, want one of %q", ki.Kind, p.Field, p.Type, got, types[p.Type])
			}
		}
	}
	for _, p := range rules.Common {
		if rules.RuleField(&r, p.Field) == nil {
			t.Errorf("common parameter %q is not a field of rules.Rule", p.Field)
		}
	}
	if rules.RuleField(&r, "nope") != nil {
		t.Error("rules.RuleField found a field that does not exist")
	}
}

func TestRuleTexts(t *testing.T) {
	r := twoRules().Rules[0]
	folds := []string{"Applies to: all sessions", "Never: users, LAN", "Active: always"}
	for i, want := range folds {
		if got := foldSummary(&r, i); got != want {
			t.Errorf("foldSummary(%d) = %q, want %q", i, got, want)
		}
	}
	sources := []struct {
		name string
		r    rules.Rule
		s    app.Session
		want string
	}{
		{"platform", r, bobSession(), "Uses the message for “roku”."},
		{"family", r, app.Session{Player: app.Player{Product: "Plex for Roku"}}, "Uses the message for “roku” players."},
		{"rule message", r, aliceSession(), "Uses the rule's message."},
		{"default", twoRules().Rules[1], aliceSession(), "Uses the default message."},
		{"exact product", rules.Rule{Messages: map[string]string{"roku": "a", "plex for roku": "b"}}, bobSession(), "Uses the message for “plex for roku”."},
	}
	for _, tt := range sources {
		if got := messageSource(tt.r, tt.s); got != tt.want {
			t.Errorf("%s: messageSource = %q, want %q", tt.name, got, tt.want)
		}
	}
	rows := messageRows(map[string]string{"web": "w", "Plex for Xbox": "x", "roku": "r"})
	if got := []string{rows[0].key, rows[1].key, rows[2].key}; !slices.Equal(got, []string{"roku", "web", "Plex for Xbox"}) {
		t.Errorf("messageRows order %q", got)
	}
	if m := messagesMap([]msgRow{{" ", ""}, {"roku ", "r"}}); !reflect.DeepEqual(m, map[string]string{"roku": "r"}) {
		t.Errorf("messagesMap = %q", m)
	}
	if messagesMap([]msgRow{{"", ""}}) != nil {
		t.Error("messagesMap of empty rows is not nil")
	}
	if !sameFile(rules.File{}, rules.File{Rules: []rules.Rule{}}) || sameFile(rules.File{}, rules.File{DryRun: true}) {
		t.Error("sameFile: nil and empty rules should be equal, dry run not")
	}
}
