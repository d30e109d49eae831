package rules

import (
	"cmp"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/diag"
)

// KindInfo describes a kind of rule for the GUI's rule editor.
type KindInfo struct {
	Kind           Kind    // the value of Rule.Kind
	Name           string  // short title, e.g. "Video transcode"
	Description    string  // one or two sentences
	DefaultMessage string  // template used when Rule.Message is empty
	Params         []Param // the kind's own fields, in display order
}

// ParamType is how the editor edits a field of a rule.
type ParamType string

// The types of Param.
const (
	ParamBool          ParamType = "bool"          // a check box
	ParamInt           ParamType = "int"           // a whole number
	ParamKbps          ParamType = "kbps"          // a whole number of kilobits per second
	ParamDuration      ParamType = "duration"      // "30s", "10m", "1h30m"
	ParamResolution    ParamType = "resolution"    // one of Param.Choices ("4K", …); "" is none
	ParamCodecs        ParamType = "codecs"        // a list of codec names
	ParamNetworks      ParamType = "networks"      // a list of IPs or CIDRs
	ParamPlayers       ParamType = "players"       // a list of player patterns
	ParamList          ParamType = "list"          // a list of names or ids (scope and exemptions)
	ParamPick          ParamType = "pick"          // PickNewest or PickOldest (Param.Choices)
	ParamCondition     ParamType = "condition"     // ConditionStorm or ConditionCollision (Param.Choices)
	ParamSchedule      ParamType = "schedule"      // a Schedule
	ParamAction        ParamType = "action"        // an Action (Actions())
	ParamTemplate      ParamType = "template"      // a message template (Placeholders)
	ParamTemplates     ParamType = "templates"     // per-player message templates
	ParamScope         ParamType = "scope"         // a Scope
	ParamExempt        ParamType = "exempt"        // an Exempt
	ParamText          ParamType = "text"          // a line of text
	ParamDevices       ParamType = "devices"       // a list of machineIdentifiers (LivePlayers offers them)
	ParamPeriod        ParamType = "period"        // PeriodDay or PeriodWeek (Param.Choices)
	ParamCoolDownScope ParamType = "coolDownScope" // CoolDownAll or CoolDownRule (Param.Choices)
)

// Param describes one field of Rule for the editor.
type Param struct {
	// Field is the JSON name in the rules file (and the Rule field's tag);
	// fields inside Scope, Exempt and Schedule are dotted ("scope.users").
	Field string
	// Section groups dotted fields in the editor, e.g. "Applies to"; "".
	Section  string
	Label    string    // for the editor, e.g. "Limit (kbps)"
	Type     ParamType // how to edit it
	Help     string    // a hint shown under the field, or ""
	Required bool      // the kind is invalid without it
	// Default is the value a new rule of the kind has (DefaultRule), as
	// the editor shows it ("20000", "30m0s", "true"); "" for none or false.
	Default string
	// Choices are the values of a field with a fixed set of them
	// (resolution, pick, condition), in display order.
	Choices []Choice
}

// Choice is one value of a Param with a fixed set of values.
type Choice struct {
	Value string // as written in the rules file
	Label string // for the editor
}

// Common is the list of fields every kind has, for the editor's shared
// part: name, enabled, action, grace, message(s), fallbackStopTranscode,
// onlyTranscodes, onlyRemote, scope, exempt, schedule.
var Common = []Param{
	{Field: "action", Label: "Action", Type: ParamAction, Help: "terminate with the message, terminate all of the user's streams, stop the transcode only, notify only, or log only (dry run)"},
	{Field: "grace", Label: "Grace delay", Type: ParamDuration, Help: "act only if the session still matches after this long; 0 acts at once"},
	{Field: "message", Label: "Message", Type: ParamTemplate, Help: "what the player shows; empty uses the default"},
	{Field: "messages", Label: "Per-player messages", Type: ParamTemplates, Help: "overrides keyed by player family (roku, web, …) or product"},
	{Field: "fallbackStopTranscode", Label: "Stop the transcode if terminate is refused", Type: ParamBool, Help: "when the server has no Plex Pass or the token is not the owner's"},
	{Field: "onlyTranscodes", Label: "Only transcodes", Type: ParamBool},
	{Field: "onlyRemote", Label: "Only remote streams", Type: ParamBool},
	{Field: "scope", Label: "Applies to", Type: ParamScope, Help: "users, players, servers, libraries, media types; empty = all"},
	{Field: "exempt", Label: "Never", Type: ParamExempt, Help: "users, players, or streams on the LAN"},
	{Field: "schedule", Label: "Active", Type: ParamSchedule, Help: "days and hours the rule is active; none = always"},
	{Field: "coolDown", Label: "Cool-down", Type: ParamDuration, Help: "after the rule stops a stream, the user's new streams are stopped at once for this long; 0 = none"},
	{Field: "coolDownScope", Label: "Cool-down applies to", Type: ParamCoolDownScope, Help: "every new stream of the user, or only those in the rule's scope",
		Choices: []Choice{{CoolDownAll, "all of the user's new streams"}, {CoolDownRule, "only new streams in the rule's scope"}}},
}

// ListFields are the lists inside "scope" and "exempt", in the editor's
// order.
var ListFields = []Param{
	{Field: "scope.users", Section: "Applies to", Label: "Users", Type: ParamList, Help: "user names or ids"},
	{Field: "scope.players", Section: "Applies to", Label: "Players", Type: ParamPlayers, Help: "family (web, roku, …), product, platform, device or name; * wildcards"},
	{Field: "scope.devices", Section: "Applies to", Label: "Devices", Type: ParamDevices, Help: "players by machineIdentifier, exactly (pick from the live list)"},
	{Field: "scope.servers", Section: "Applies to", Label: "Servers", Type: ParamList},
	{Field: "scope.libraries", Section: "Applies to", Label: "Libraries", Type: ParamList, Help: "titles or section ids"},
	{Field: "scope.mediaTypes", Section: "Applies to", Label: "Media types", Type: ParamList, Help: "movie, episode, track, clip, photo, livetv, video, music"},
	{Field: "exempt.users", Section: "Never", Label: "Users", Type: ParamList},
	{Field: "exempt.players", Section: "Never", Label: "Players", Type: ParamPlayers},
	{Field: "exempt.devices", Section: "Never", Label: "Devices", Type: ParamDevices, Help: "players by machineIdentifier, exactly"},
}

// otherFields are the fields neither Common, ListFields nor a kind
// describes, for LookupParam (the editor's error lines).
var otherFields = []Param{
	{Field: "name", Label: "Name", Type: ParamText},
	{Field: "kind", Label: "Kind", Type: ParamText},
	{Field: "enabled", Label: "Enabled", Type: ParamBool},
	{Field: "exempt.lan", Section: "Never", Label: "Never: streams on the LAN", Type: ParamBool},
	{Field: "schedule.from", Section: "Active", Label: "Active: from", Type: ParamText},
	{Field: "schedule.to", Section: "Active", Label: "Active: to", Type: ParamText},
	{Field: "schedule.days", Section: "Active", Label: "Active: days", Type: ParamText},
}

// ActionInfo describes an action for the editor.
type ActionInfo struct {
	Action Action
	Label  string // the editor's choice, e.g. "Terminate with the message"
	Short  string // in lists and previews, e.g. "terminate"
}

var actions = []ActionInfo{
	{ActionTerminate, "Terminate with the message", "terminate"},
	{ActionTerminateUser, "Terminate all of the user's streams", "terminate user"},
	{ActionStopTranscode, "Stop the transcode only", "stop transcode"},
	{ActionNotify, "Notify me only", "notify"},
	{ActionLog, "Log only (dry run)", "log only"},
}

// Actions describes every action, in the editor's order. The slice is a copy.
func Actions() []ActionInfo { return slices.Clone(actions) }

// ActionShort names a in lists and previews ("terminate", "stop
// transcode", …); "" is terminate; an unknown action is its own name.
func ActionShort(a Action) string {
	if a == "" {
		a = ActionTerminate
	}
	for _, ai := range actions {
		if ai.Action == a {
			return ai.Short
		}
	}
	return string(a)
}

// Placeholders are the placeholders a message may use, in the editor's
// order.
var Placeholders = []string{"{user}", "{title}", "{player}", "{platform}", "{product}", "{quality}", "{rule}", "{reason}"}

// PlaceholderHint lists the placeholders of a message for a hint.
var PlaceholderHint = strings.Join(Placeholders, " ")

// Resolutions are the values of a "resolution" parameter, highest first.
var Resolutions = []string{"8K", "4K", "1440p", "1080p", "720p", "576p", "480p", "SD"}

// Conditions of a diagnostic rule.
const (
	ConditionStorm     = "storm"
	ConditionCollision = "collision"
)

// DiagSource answers a diagnostic rule's conditions; app/diag's Detector
// implements it.
type DiagSource interface {
	Storming(server, playerID string) bool
	StormingUser(server, user string) bool
	Colliding(server, playerID string) bool
}

// DiagLister is a DiagSource that also lists the players and users its
// conditions hold for now; app/diag's Detector implements it. With it, a
// pass over a Delta update asks about the sessions of those only instead
// of every session in a diagnostic rule's scope (incremental.go).
type DiagLister interface {
	DiagSource
	// Flagged returns exactly the players and users Storming,
	// StormingUser and Colliding answer true for now.
	Flagged() diag.Flags
}

// kindInfos are the specs' descriptions with each Param's Default filled
// in from DefaultRule, made once.
var kindInfos = func() []KindInfo {
	out := make([]KindInfo, len(specs))
	for i := range specs {
		ki := specs[i].KindInfo
		r := DefaultRule(ki.Kind, "")
		ki.Params = slices.Clone(ki.Params)
		for j := range ki.Params {
			ki.Params[j].Default = fieldText(&r, ki.Params[j].Field)
		}
		out[i] = ki
	}
	return out
}()

// Kinds describes every kind of rule, in the order the GUI offers them.
// The returned slice is a copy.
func Kinds() []KindInfo {
	out := make([]KindInfo, len(kindInfos))
	copy(out, kindInfos)
	return out
}

// LookupKind describes kind k; false for an unknown kind.
func LookupKind(k Kind) (KindInfo, bool) {
	for _, ki := range kindInfos {
		if ki.Kind == k {
			return ki, true
		}
	}
	return KindInfo{}, false
}

// KindName is the title of kind k ("Video transcode"), or k itself when
// it is unknown.
func KindName(k Kind) string {
	if ki, ok := LookupKind(k); ok {
		return ki.Name
	}
	return string(k)
}

// LookupParam describes the field a rule of kind k has under the JSON
// name (or dotted path) field: the kind's own parameters first, then
// Common, ListFields and the rest ("name", "exempt.lan",
// "schedule.from", …). It names the fields of FileError.Field.
func LookupParam(k Kind, field string) (Param, bool) {
	ki, _ := LookupKind(k)
	for _, list := range [][]Param{ki.Params, Common, ListFields, otherFields} {
		for _, p := range list {
			if p.Field == field {
				return p, true
			}
		}
	}
	return Param{}, false
}

// fieldText is the value of r's top-level field named field in words, for
// Param.Default.
func fieldText(r *Rule, field string) string {
	switch v := RuleField(r, field).(type) {
	case *bool:
		if *v {
			return "true"
		}
	case *int:
		if *v != 0 {
			return strconv.Itoa(*v)
		}
	case *int64:
		if *v != 0 {
			return strconv.FormatInt(*v, 10)
		}
	case *Duration:
		if *v != 0 {
			return time.Duration(*v).String()
		}
	case *string:
		return *v
	case *[]string:
		return strings.Join(*v, ", ")
	case **Schedule:
		if *v != nil {
			return (*v).String()
		}
	}
	return ""
}

// ruleFieldIndex maps a Rule field's JSON name to the field.
var ruleFieldIndex = func() map[string][]int {
	m := map[string][]int{}
	t := reflect.TypeFor[Rule]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = f.Index
		}
	}
	return m
}()

// RuleField returns a pointer to r's field whose JSON name is field,
// or nil.
func RuleField(r *Rule, field string) any {
	idx, ok := ruleFieldIndex[field]
	if !ok {
		return nil
	}
	return reflect.ValueOf(r).Elem().FieldByIndex(idx).Addr().Interface()
}

// PlayerChoice is a player playing now, for the editor's "pick a player
// from the live list" of scope.devices and exempt.devices.
type PlayerChoice struct {
	MachineIdentifier string // the value for Scope.Devices and Exempt.Devices
	// Label names it for a list: "Living Room (Plex for Roku) · alice on
	// home", the user and server of its first stream.
	Label  string
	Family string // PlayerFamily, e.g. "roku"
}

// LivePlayers lists the distinct players of st's sessions that have a
// machineIdentifier, sorted by label.
func LivePlayers(st *app.State) []PlayerChoice {
	if st == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []PlayerChoice
	for _, s := range st.Sessions() {
		id := s.Player.MachineIdentifier
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, PlayerChoice{MachineIdentifier: id, Label: PlayerLabel(s.Player) + " · " + s.User + " on " + s.Server, Family: PlayerFamily(s.Player)})
	}
	slices.SortFunc(out, func(a, b PlayerChoice) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)), strings.Compare(a.MachineIdentifier, b.MachineIdentifier))
	})
	return out
}
