// The Rules tab's model of a rule as edited, without Fyne: drafts, their
// problems and the editor's field keys and labels.

package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/rules"
)

// ruleDraft is one rule as edited. Fields whose text does not parse (a
// grace of "soon") keep the last good value in rule, and the text and the
// reason in raw and bad, so Save can refuse and the editor can show them
// again after another rule was selected.
type ruleDraft struct {
	rule rules.Rule
	msgs []msgRow          // per-player messages as edited; rule.Messages is built from them
	raw  map[string]string // field key → text that does not parse
	bad  map[string]string // field key → why
	// lastSchedule is the schedule before "Only at certain times" was
	// switched off, so switching it on again brings it back.
	lastSchedule *rules.Schedule
	problem      *problem // computed by check: the first thing wrong with the rule
}

// msgRow is one per-player message: a player family or product, and the
// template.
type msgRow struct{ key, text string }

// problem is what is wrong with a rule, and where.
type problem struct {
	field string // editor field key ("grace", "scope.players", "messages"); "" for the rule as a whole
	text  string // what is wrong, as a sentence
}

func newDraft(r rules.Rule) *ruleDraft {
	d := &ruleDraft{rule: cloneRule(r), raw: map[string]string{}, bad: map[string]string{}}
	d.msgs = messageRows(r.Messages)
	return d
}

// cloneRule copies r deeply: drafts never share lists with the backend's
// rules.
func cloneRule(r rules.Rule) rules.Rule {
	r.Messages = maps.Clone(r.Messages)
	r.Codecs = slices.Clone(r.Codecs)
	r.AllowNetworks = slices.Clone(r.AllowNetworks)
	r.DenyNetworks = slices.Clone(r.DenyNetworks)
	r.Players = slices.Clone(r.Players)
	r.Scope = rules.Scope{
		Users: slices.Clone(r.Scope.Users), Players: slices.Clone(r.Scope.Players), Servers: slices.Clone(r.Scope.Servers),
		Libraries: slices.Clone(r.Scope.Libraries), MediaTypes: slices.Clone(r.Scope.MediaTypes),
	}
	r.Exempt = rules.Exempt{Users: slices.Clone(r.Exempt.Users), Players: slices.Clone(r.Exempt.Players), LAN: r.Exempt.LAN}
	if r.Schedule != nil {
		s := *r.Schedule
		s.Days = slices.Clone(s.Days)
		r.Schedule = &s
	}
	return r
}

// messageRows lists per-player messages in the order of
// rules.PlayerFamilies, then other keys alphabetically.
func messageRows(m map[string]string) []msgRow {
	keys := slices.Collect(maps.Keys(m))
	rank := func(k string) int {
		for i, f := range rules.PlayerFamilies {
			if strings.EqualFold(f.Key, k) {
				return i
			}
		}
		return len(rules.PlayerFamilies)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(strings.ToLower(a), strings.ToLower(b))
	})
	rows := make([]msgRow, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, msgRow{k, m[k]})
	}
	return rows
}

// messagesMap builds Rule.Messages from the rows: rows left empty are
// dropped, and none gives nil (the file then has no "messages").
func messagesMap(rows []msgRow) map[string]string {
	var m map[string]string
	for _, r := range rows {
		if strings.TrimSpace(r.key) == "" && strings.TrimSpace(r.text) == "" {
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[strings.TrimSpace(r.key)] = r.text
	}
	return m
}

// sameFile compares the parts of two rules files the view edits, through
// their JSON form, so that nil and empty lists are equal.
func sameFile(a, b rules.File) bool {
	edited := func(f rules.File) string {
		if len(f.Rules) == 0 {
			f.Rules = nil
		}
		j, _ := json.Marshal(struct {
			D bool
			R []rules.Rule
		}{f.DryRun, f.Rules})
		return string(j)
	}
	return edited(a) == edited(b)
}

// draftProblem is the first thing wrong with one rule, or nil.
func draftProblem(d *ruleDraft) *problem {
	if keys := slices.Sorted(maps.Keys(d.bad)); len(keys) > 0 {
		return &problem{field: keys[0], text: d.bad[keys[0]]}
	}
	f := rules.File{Version: rules.Version, Rules: []rules.Rule{d.rule}}
	var fe *rules.FileError
	if err := f.Validate(); errors.As(err, &fe) {
		return &problem{field: fieldKey(fe.Field), text: sentence(fe.Err.Error())}
	} else if err != nil {
		return &problem{text: sentence(err.Error())}
	}
	return nil
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

// fieldKey turns a rules file field ("scope.players[2]") into the key of
// its editor field ("scope.players"); per-player messages share one key.
func fieldKey(field string) string {
	k := indexRE.ReplaceAllString(field, "")
	if strings.HasPrefix(k, "messages.") {
		return "messages"
	}
	return k
}

func uniqueName(base string, names []string) string {
	taken := map[string]bool{}
	for _, n := range names {
		taken[strings.ToLower(strings.TrimSpace(n))] = true
	}
	name := base
	for i := 2; taken[strings.ToLower(name)]; i++ {
		name = fmt.Sprintf("%s %d", base, i)
	}
	return name
}

// problemText names the rule and the field of a problem:
// `rule 2 “Late night”, Grace delay: “soon” is not a duration…`.
func problemText(i int, d *ruleDraft, p *problem) string {
	s := fmt.Sprintf("rule %d “%s”", i+1, d.rule.Name)
	if p.field != "" {
		s += ", " + fieldLabel(d.rule.Kind, p.field)
	}
	return s + ": " + p.text
}

// fieldLabel is the editor's label of a field key, e.g. "Grace delay" for
// "grace" and "Applies to: players" for "scope.players".
func fieldLabel(k rules.Kind, key string) string {
	switch key {
	case "name":
		return "Name"
	case "kind":
		return "Kind"
	}
	for _, p := range kindParams(k) {
		if p.Field == key {
			return p.Label
		}
	}
	for _, p := range rules.Common {
		if p.Field == key {
			return p.Label
		}
	}
	for _, f := range listFields {
		if f.key == key {
			return f.section + ": " + strings.ToLower(f.label)
		}
	}
	switch key {
	case "exempt.lan":
		return "Never: streams on the LAN"
	case "schedule.from", "schedule.to", "schedule.days":
		return "Active: " + strings.TrimPrefix(key, "schedule.")
	}
	return key
}

// ruleFieldIndex maps a Rule field's JSON name to the field.
var ruleFieldIndex = func() map[string][]int {
	m := map[string][]int{}
	t := reflect.TypeFor[rules.Rule]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = f.Index
		}
	}
	return m
}()

// ruleField returns a pointer to the field of r whose JSON name is field
// (*bool, *int, *int64, *string, *[]string, *rules.Duration, …), or nil.
// The editor is built from rules.Kinds()' parameters, which name fields
// this way, so a new parameter needs no change here unless its type is new.
func ruleField(r *rules.Rule, field string) any {
	idx, ok := ruleFieldIndex[field]
	if !ok {
		return nil
	}
	return reflect.ValueOf(r).Elem().FieldByIndex(idx).Addr().Interface()
}

// listFields are the comma lists of "Applies to" and "Never".
var listFields = []struct {
	key, section, label, help string
	get                       func(*rules.Rule) *[]string
}{
	{"scope.users", "Applies to", "Users", "user names or ids", func(r *rules.Rule) *[]string { return &r.Scope.Users }},
	{"scope.players", "Applies to", "Players", "family (web, roku, …), product, platform, device or name; * wildcards", func(r *rules.Rule) *[]string { return &r.Scope.Players }},
	{"scope.servers", "Applies to", "Servers", "", func(r *rules.Rule) *[]string { return &r.Scope.Servers }},
	{"scope.libraries", "Applies to", "Libraries", "titles or section ids", func(r *rules.Rule) *[]string { return &r.Scope.Libraries }},
	{"scope.mediaTypes", "Applies to", "Media types", "movie, episode, track, clip, photo, livetv, video, music", func(r *rules.Rule) *[]string { return &r.Scope.MediaTypes }},
	{"exempt.users", "Never", "Users", "", func(r *rules.Rule) *[]string { return &r.Exempt.Users }},
	{"exempt.players", "Never", "Players", "", func(r *rules.Rule) *[]string { return &r.Exempt.Players }},
}

// The folding sections of the editor, in order, and their titles when
// empty.
var (
	foldTitles = []string{"Applies to", "Never", commonParam("schedule").Label}
	foldEmpty  = []string{"all sessions", "no exemptions", "always"}
)

// foldSummary is the title of fold i: "Applies to: users, players",
// "Never: users, LAN", "Active: mon–fri 01:00–06:00".
func foldSummary(r *rules.Rule, i int) string {
	var set []string
	switch i {
	case 0, 1:
		for _, lf := range listFields {
			if lf.section == foldTitles[i] && len(*lf.get(r)) > 0 {
				set = append(set, strings.ToLower(lf.label))
			}
		}
		if i == 1 && r.Exempt.LAN {
			set = append(set, "LAN")
		}
	case 2:
		if r.Schedule != nil {
			set = append(set, scheduleText(r.Schedule))
		}
	}
	if len(set) == 0 {
		return foldTitles[i] + ": " + foldEmpty[i]
	}
	return foldTitles[i] + ": " + strings.Join(set, ", ")
}

// messageSource says which template applies to s: a per-player message
// (exact product, platform or device first, then the family), the rule's
// message or the kind's default, as rules.RenderMessage picks it.
func messageSource(r rules.Rule, s app.Session) string {
	keys := slices.Sorted(maps.Keys(r.Messages))
	for _, v := range []string{s.Player.Product, s.Player.Platform, s.Player.Device} {
		for _, k := range keys {
			if v != "" && strings.EqualFold(strings.TrimSpace(k), v) {
				return "Uses the message for “" + k + "”."
			}
		}
	}
	fam := rules.PlayerFamily(s.Player)
	for _, k := range keys {
		if strings.EqualFold(strings.TrimSpace(k), fam) {
			return "Uses the message for “" + k + "” players."
		}
	}
	if strings.TrimSpace(r.Message) != "" {
		return "Uses the rule's message."
	}
	return "Uses the default message."
}
