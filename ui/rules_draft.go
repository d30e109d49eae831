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
	// inForce is the name of the rule in the file in force that this
	// draft edits; "" for a rule added since (a draft until Save).
	inForce string
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
	for _, lf := range rules.ListFields { // scope and exempt
		if l := listField(&r, lf.Field); l != nil {
			*l = slices.Clone(*l)
		}
	}
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
	p, ok := rules.LookupParam(k, key)
	switch {
	case !ok:
		return key
	case p.Section != "" && !strings.HasPrefix(p.Label, p.Section+":"):
		return p.Section + ": " + strings.ToLower(p.Label)
	}
	return p.Label
}

// listField is the list of r a dotted field of rules.ListFields names
// ("scope.users" is r.Scope.Users), found by the JSON names as
// rules.RuleField finds top-level fields; nil for none.
func listField(r *rules.Rule, field string) *[]string {
	top, sub, _ := strings.Cut(field, ".")
	v := reflect.ValueOf(rules.RuleField(r, top))
	if !v.IsValid() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	v = v.Elem()
	for i := range v.NumField() {
		if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ","); name == sub {
			p, _ := v.Field(i).Addr().Interface().(*[]string)
			return p
		}
	}
	return nil
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
		for _, lf := range rules.ListFields {
			if l := listField(r, lf.Field); lf.Section == foldTitles[i] && l != nil && len(*l) > 0 {
				set = append(set, strings.ToLower(lf.Label))
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
