package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
)

// Version is the schema version of the rules file this build writes.
const Version = 1

// FileName is the rules file's name in the configuration directory.
const FileName = "rules.json"

// File is the rules file: the global dry-run switch and the rules, in
// order. Its JSON form is documented in docs/RULES.md.
type File struct {
	Version int    `json:"version"` // schema version (Version)
	DryRun  bool   `json:"dryRun"`  // log what the rules would do; send nothing
	Rules   []Rule `json:"rules"`   // in order; names unique
	// Local configures the clean-up of this computer's transcoder
	// processes; nil means every local rule is off.
	Local *LocalRules `json:"local,omitempty"`
}

// Kind is what a rule looks for.
type Kind string

// The kinds of rule. Kinds() describes each for the GUI.
const (
	KindTranscode        Kind = "transcode"        // video transcodes (options: audio-only, subtitle burn)
	KindSourceTranscode  Kind = "sourceTranscode"  // transcodes of 4K / HEVC / AV1 … sources
	KindBandwidth        Kind = "bandwidth"        // bandwidth or bitrate above a limit
	KindPaused           Kind = "paused"           // paused longer than a limit
	KindUserStreams      Kind = "userStreams"      // more streams (or addresses) per user than a limit
	KindServerTranscodes Kind = "serverTranscodes" // more transcodes on a server than a limit
	KindRemote           Kind = "remote"           // streams from outside the LAN
	KindAddress          Kind = "address"          // addresses in deny lists, or outside allow lists
	KindPlayer           Kind = "player"           // players, platforms or products
	KindTimeWindow       Kind = "timeWindow"       // any stream during a time window
	KindDiagnostic       Kind = "diagnostic"       // players in a transcode storm or a client-identifier collision (app/diag)
)

// Action is what a rule does to a session it matches.
type Action string

// The actions.
const (
	ActionTerminate     Action = "terminate"     // stop the session with the message (default)
	ActionStopTranscode Action = "stopTranscode" // kill its transcode only (no message; playback breaks)
	ActionNotify        Action = "notify"        // desktop notification only
	ActionLog           Action = "log"           // history only: a per-rule dry run
)

// Pick says which sessions go when a count is over its limit.
const (
	PickNewest = "newest" // the most recently started (default)
	PickOldest = "oldest"
)

// Rule is one automatic rule. The fields after Schedule are the
// parameters of particular kinds; the others apply to every kind.
type Rule struct {
	Name    string `json:"name"`    // unique; shown in history and messages ({rule})
	Kind    Kind   `json:"kind"`    // what the rule looks for
	Enabled bool   `json:"enabled"` // default true when absent from the file
	Action  Action `json:"action"`  // default terminate
	// Grace is how long a session must keep matching before the rule acts;
	// it is checked again then. 0 acts at once.
	Grace Duration `json:"grace,omitempty"`
	// Message is the text the player shows (placeholders: {user} {title}
	// {player} {platform} {product} {quality} {rule} {reason}); "" uses the
	// kind's default.
	Message string `json:"message,omitempty"`
	// Messages overrides Message per player: keys are a player family
	// (PlayerFamilies: "roku", "android", "ios", "tvos", "web", "smarttv",
	// …) or an exact product or platform name ("Plex for Xbox").
	Messages map[string]string `json:"messages,omitempty"`
	// FallbackStopTranscode: when the server refuses to terminate (401/403:
	// no Plex Pass, not the owner), stop the session's transcode instead.
	FallbackStopTranscode bool `json:"fallbackStopTranscode,omitempty"`
	// OnlyTranscodes and OnlyRemote narrow any kind to transcoding and to
	// non-LAN sessions.
	OnlyTranscodes bool      `json:"onlyTranscodes,omitempty"`
	OnlyRemote     bool      `json:"onlyRemote,omitempty"`
	Scope          Scope     `json:"scope,omitzero"`     // the sessions it applies to
	Exempt         Exempt    `json:"exempt,omitzero"`    // the sessions it never touches
	Schedule       *Schedule `json:"schedule,omitempty"` // when the rule is active; nil = always

	// transcode, serverTranscodes: also audio-only transcodes.
	IncludeAudioOnly bool `json:"includeAudioOnly,omitempty"`
	// transcode, sourceTranscode, serverTranscodes: count a transcode
	// whose only video work is burning subtitles in (subtitles burned and
	// the picture keeps its resolution).
	CountSubtitleBurn bool `json:"countSubtitleBurn,omitempty"`
	// sourceTranscode: source resolution at or above ("4K", "1080p", …)
	// and/or source video codec in Codecs ("hevc", "av1", …); either
	// matches unless RequireBoth.
	MinResolution string   `json:"minResolution,omitempty"`
	Codecs        []string `json:"codecs,omitempty"`
	RequireBoth   bool     `json:"requireBoth,omitempty"`
	// bandwidth: Session bandwidth above MaxKbps; the source file's
	// bitrate instead with UseSourceBitrate.
	MaxKbps          int64 `json:"maxKbps,omitempty"`
	UseSourceBitrate bool  `json:"useSourceBitrate,omitempty"`
	// paused: paused for at least PausedFor.
	PausedFor Duration `json:"pausedFor,omitempty"`
	// userStreams: more than MaxStreams sessions per user (distinct IP
	// addresses with CountIPs), counted over all servers.
	MaxStreams int  `json:"maxStreams,omitempty"`
	CountIPs   bool `json:"countIPs,omitempty"`
	// serverTranscodes: more than MaxTranscodes transcodes on one server.
	MaxTranscodes int `json:"maxTranscodes,omitempty"`
	// userStreams, serverTranscodes: which sessions go, PickNewest (default) or PickOldest.
	Pick string `json:"pick,omitempty"`
	// remote: addresses in AllowNetworks are never matched. address:
	// addresses in DenyNetworks match, and when AllowNetworks is set, so
	// do addresses outside it. IPs or CIDRs, IPv4 or IPv6.
	AllowNetworks []string `json:"allowNetworks,omitempty"`
	DenyNetworks  []string `json:"denyNetworks,omitempty"`
	// player: player patterns (see Scope.Players).
	Players []string `json:"players,omitempty"`
	// diagnostic: "storm" (the player or its user is in a transcode storm)
	// or "collision" (the player's id is shared with another player).
	Condition string `json:"condition,omitempty"`
}

// Scope limits a rule to some sessions; empty lists mean all.
type Scope struct {
	Users   []string `json:"users,omitempty"`   // user names or ids
	Players []string `json:"players,omitempty"` // patterns: family, product, platform, device, player name or id; * and ? wildcards
	Servers []string `json:"servers,omitempty"` // server names
	// Libraries are library titles or section ids.
	Libraries []string `json:"libraries,omitempty"`
	// MediaTypes: movie, episode, track, clip, photo, livetv, or the
	// groups video (movie, episode, clip) and music (track).
	MediaTypes []string `json:"mediaTypes,omitempty"`
}

// Exempt lists sessions a rule never touches.
type Exempt struct {
	Users   []string `json:"users,omitempty"`   // user names or ids
	Players []string `json:"players,omitempty"` // player patterns, as Scope.Players
	LAN     bool     `json:"lan,omitempty"`     // sessions on the local network
}

// Schedule is a weekly time window in the local time zone. From == To is
// the whole day. A window that crosses midnight (22:00–06:00) belongs to
// the day it starts on: with Days ["fri"] it runs Friday 22:00 to Saturday
// 06:00.
type Schedule struct {
	Days []string `json:"days,omitempty"` // mon tue wed thu fri sat sun; empty = every day
	From string   `json:"from"`           // "HH:MM"
	To   string   `json:"to"`             // "HH:MM"; "24:00" is midnight at the end
}

// Duration is a time.Duration written as "30s" or "10m" in JSON (a bare
// number is seconds).
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as text, e.g. "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "30s", "10m", "1h30m" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			// An UnmarshalTypeError gets the field's name from the decoder.
			return &json.UnmarshalTypeError{Value: fmt.Sprintf("%q", s), Type: durationType}
		}
		*d = Duration(v)
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return &json.UnmarshalTypeError{Value: string(b), Type: durationType}
	}
	*d = Duration(n * float64(time.Second))
	return nil
}

var durationType = reflect.TypeFor[Duration]()

// FileError says what is wrong with a rules file: where (the file, the
// rule's index and name, the field) and why. The file is never changed.
type FileError struct {
	Path  string // the rules file; "" for Parse and Validate
	Rule  int    // index in "rules", counting from 0; -1 when not about one rule
	Name  string // the rule's name, if it has one
	Field string // JSON field, e.g. "maxKbps" or "scope.players[2]"
	Err   error  // what is wrong, in words
}

// Error says where and what, e.g. `rules file F: rules[1] ("Late night"):
// field "grace": "5 minutes" is not a duration …`.
func (e *FileError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		fmt.Fprintf(&b, "rules file %s: ", e.Path)
	}
	if e.Rule >= 0 {
		fmt.Fprintf(&b, "rules[%d]", e.Rule)
		if e.Name != "" {
			fmt.Fprintf(&b, " (%q)", e.Name)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "field %q: ", e.Field)
	}
	b.WriteString(e.Err.Error())
	if e.Path != "" {
		b.WriteString(" (the file was not changed; fix it or move it away)")
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

// DefaultRule returns a new rule of kind k with its defaults: enabled,
// terminate, no grace, and parameters that make it valid (e.g. 4K for
// sourceTranscode, 3 streams for userStreams).
func DefaultRule(k Kind, name string) Rule {
	r := Rule{Name: name, Kind: k, Enabled: true, Action: ActionTerminate}
	switch k {
	case KindSourceTranscode:
		r.MinResolution, r.Codecs = "4K", []string{"hevc", "av1"}
	case KindBandwidth:
		r.MaxKbps = 20000
	case KindPaused:
		r.PausedFor = Duration(30 * time.Minute)
	case KindUserStreams:
		r.MaxStreams, r.Pick = 2, PickNewest
	case KindServerTranscodes:
		r.MaxTranscodes, r.Pick = 2, PickNewest
	case KindAddress:
		r.DenyNetworks = []string{"198.51.100.0/24"}
	case KindPlayer:
		r.Players, r.OnlyTranscodes = []string{"web"}, true
	case KindDiagnostic:
		r.Condition, r.Action = ConditionStorm, ActionStopTranscode
	case KindTimeWindow:
		r.Schedule = &Schedule{From: "01:00", To: "06:00"}
	}
	return r
}

// Load reads and validates the rules file at path. A missing file is an
// empty rule set (no error). A file that cannot be read or is invalid gives
// a *FileError naming the problem, and is left as it is.
func Load(path string) (File, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return File{Version: Version}, nil
	}
	if err != nil {
		return File{}, &FileError{Path: path, Rule: -1, Err: err}
	}
	f, err := Parse(b)
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			fe.Path = path
			return File{}, fe
		}
		return File{}, &FileError{Path: path, Rule: -1, Err: err}
	}
	return f, nil
}

// Parse decodes and validates a rules file's content. Errors are
// *FileError without a Path.
func Parse(b []byte) (File, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return File{}, &FileError{Rule: -1, Err: errors.New("the file is empty")}
	}
	var raw struct {
		Version *int              `json:"version"`
		DryRun  bool              `json:"dryRun"`
		Rules   []json.RawMessage `json:"rules"`
		Local   *LocalRules       `json:"local"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return File{}, jsonError(b, err, -1, "")
	}
	if _, err := dec.Token(); err != io.EOF { // More misses a stray ] or }
		return File{}, &FileError{Rule: -1, Err: errors.New("extra data after the JSON object")}
	}
	f := File{Version: Version, DryRun: raw.DryRun, Local: raw.Local}
	if raw.Version != nil {
		switch v := *raw.Version; {
		case v > Version:
			return File{}, &FileError{Rule: -1, Field: "version",
				Err: fmt.Errorf("written by a newer Plex Warden (schema %d; this build reads up to %d)", v, Version)}
		case v < 1:
			return File{}, &FileError{Rule: -1, Field: "version", Err: fmt.Errorf("%d is not a schema version (use %d)", v, Version)}
		}
	}
	for i, rb := range raw.Rules {
		r := Rule{Enabled: true, Action: ActionTerminate}
		d := json.NewDecoder(bytes.NewReader(rb))
		d.DisallowUnknownFields()
		if err := d.Decode(&r); err != nil {
			var probe struct {
				Name string `json:"name"`
			}
			_ = json.Unmarshal(rb, &probe)
			return File{}, jsonError(rb, err, i, probe.Name)
		}
		f.Rules = append(f.Rules, r)
	}
	if err := f.Validate(); err != nil {
		return File{}, err
	}
	return f, nil
}

// jsonError turns a decoding error into a *FileError with the field name or
// the line and column.
func jsonError(b []byte, err error, rule int, name string) error {
	fe := &FileError{Rule: rule, Name: name, Err: err}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(b, se.Offset)
		fe.Err = fmt.Errorf("line %d, column %d: %v", line, col, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te):
		fe.Field = te.Field
		switch te.Type {
		case durationType:
			fe.Err = fmt.Errorf("%s is not a duration (use e.g. \"30s\", \"10m\", \"1h30m\")", te.Value)
		default:
			fe.Err = fmt.Errorf("a %s where %s is expected", te.Value, typeWords(te.Type))
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		fe.Err = errors.New("the JSON ends too early (a missing } or ]?)")
	default:
		fe.Err = errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	return fe
}

func lineCol(b []byte, off int64) (line, col int) {
	line, col = 1, 1
	for _, c := range b[:min(int(off), len(b))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

func typeWords(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return typeWords(t.Elem())
	}
	return t.String()
}

// Save validates f and writes it to path atomically (temporary file, fsync,
// rename) with mode 0600. An existing file with other content is kept as
// path+".bak" first, whether it was valid or not.
func Save(path string, f File) error {
	if err := f.Validate(); err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			fe.Path = ""
		}
		return err
	}
	f.Version = Version
	f.Rules = append([]Rule{}, f.Rules...)
	for i := range f.Rules {
		if f.Rules[i].Action == "" {
			f.Rules[i].Action = ActionTerminate // write the default out
		}
	}
	return app.SaveJSONWithBackup(path, f)
}

// Validate checks every rule; the error is a *FileError naming the rule
// and field.
func (f *File) Validate() error {
	if f.Version > Version {
		return &FileError{Rule: -1, Field: "version", Err: fmt.Errorf("schema %d is newer than this build reads (%d)", f.Version, Version)}
	}
	if f.Local != nil {
		if err := f.Local.validate(); err != nil {
			return err
		}
	}
	names := map[string]int{}
	for i := range f.Rules {
		r := &f.Rules[i]
		fail := func(field, format string, a ...any) error {
			return &FileError{Rule: i, Name: r.Name, Field: field, Err: fmt.Errorf(format, a...)}
		}
		name := strings.TrimSpace(r.Name)
		if name == "" {
			return fail("name", "every rule needs a name")
		}
		if j, ok := names[strings.ToLower(name)]; ok {
			return fail("name", "the name is already used by rules[%d]; names must be unique", j)
		}
		names[strings.ToLower(name)] = i
		if _, err := compile(*r); err != nil {
			var fe *FileError
			if errors.As(err, &fe) {
				fe.Rule, fe.Name = i, r.Name
				return fe
			}
			return fail("", "%v", err)
		}
	}
	return nil
}

// compiled is a validated rule with its lists parsed, ready to match.
type compiled struct {
	Rule
	allow, deny []netip.Prefix
	sched       *schedule
	minHeight   int
	codecs      map[string]bool
	scopePl     []string // lower-case patterns
	exemptPl    []string
	players     []string
	diag        DiagSource // for KindDiagnostic; nil never matches
}

var placeholderRE = regexp.MustCompile(`\{[A-Za-z_]+\}`)

// compile checks r and parses its lists. Errors are *FileError with Field
// set (the caller adds the rule index).
func compile(r Rule) (*compiled, error) {
	fail := func(field, format string, a ...any) error {
		return &FileError{Rule: -1, Field: field, Err: fmt.Errorf(format, a...)}
	}
	c := &compiled{Rule: r}
	if _, ok := kindInfo(r.Kind); !ok {
		if r.Kind == "" {
			return nil, fail("kind", "missing; use one of %s", kindList())
		}
		return nil, fail("kind", "unknown kind %q; use one of %s", r.Kind, kindList())
	}
	switch r.Action {
	case ActionTerminate, ActionStopTranscode, ActionNotify, ActionLog:
	case "":
		c.Action = ActionTerminate
	default:
		return nil, fail("action", "unknown action %q; use terminate, stopTranscode, notify or log", r.Action)
	}
	if r.Grace < 0 || r.Grace.Std() > 24*time.Hour {
		return nil, fail("grace", "%s is out of range (0 to 24h)", r.Grace.Std())
	}
	if err := checkTemplate(r.Message); err != nil {
		return nil, fail("message", "%v", err)
	}
	for k, v := range r.Messages {
		if strings.TrimSpace(k) == "" {
			return nil, fail("messages", "an empty player key")
		}
		if err := checkTemplate(v); err != nil {
			return nil, fail("messages."+k, "%v", err)
		}
	}
	var err error
	if c.scopePl, err = patterns("scope.players", r.Scope.Players); err != nil {
		return nil, err
	}
	if c.exemptPl, err = patterns("exempt.players", r.Exempt.Players); err != nil {
		return nil, err
	}
	for i, t := range r.Scope.MediaTypes {
		if !mediaTypes[strings.ToLower(t)] {
			return nil, fail(fmt.Sprintf("scope.mediaTypes[%d]", i), "unknown media type %q; use movie, episode, track, clip, photo, livetv, video or music", t)
		}
	}
	if r.Schedule != nil {
		if c.sched, err = parseSchedule(*r.Schedule); err != nil {
			return nil, err
		}
	}
	if c.allow, err = networks("allowNetworks", r.AllowNetworks); err != nil {
		return nil, err
	}
	if c.deny, err = networks("denyNetworks", r.DenyNetworks); err != nil {
		return nil, err
	}
	switch r.Pick {
	case "", PickNewest, PickOldest:
	default:
		return nil, fail("pick", "%q: use \"newest\" or \"oldest\"", r.Pick)
	}
	switch r.Kind {
	case KindSourceTranscode:
		if r.MinResolution == "" && len(r.Codecs) == 0 {
			return nil, fail("minResolution", "set minResolution (e.g. \"4K\") and/or codecs (e.g. [\"hevc\", \"av1\"])")
		}
		if r.MinResolution != "" {
			c.minHeight = plex.ResolutionHeight(plex.ResolutionLabel(r.MinResolution, 0))
			if c.minHeight == 0 {
				return nil, fail("minResolution", "%q is not a resolution; use 8K, 4K, 1440p, 1080p, 720p, 576p, 480p or SD", r.MinResolution)
			}
		}
		c.codecs = map[string]bool{}
		for i, k := range r.Codecs {
			if strings.TrimSpace(k) == "" {
				return nil, fail(fmt.Sprintf("codecs[%d]", i), "an empty codec")
			}
			c.codecs[plex.CodecName(strings.TrimSpace(k))] = true
		}
		if r.RequireBoth && (r.MinResolution == "" || len(r.Codecs) == 0) {
			return nil, fail("requireBoth", "needs both minResolution and codecs")
		}
	case KindBandwidth:
		if r.MaxKbps <= 0 {
			return nil, fail("maxKbps", "set a limit above 0 (kbps, e.g. 20000 for 20 Mbps)")
		}
	case KindPaused:
		if r.PausedFor.Std() < time.Second {
			return nil, fail("pausedFor", "set how long a pause may last, at least 1s (e.g. \"30m\")")
		}
	case KindUserStreams:
		if r.MaxStreams < 1 {
			return nil, fail("maxStreams", "set the streams (or addresses) a user may have at once, at least 1")
		}
	case KindServerTranscodes:
		if r.MaxTranscodes < 1 {
			return nil, fail("maxTranscodes", "set the transcodes a server may run at once, at least 1 (for none at all use a transcode rule)")
		}
	case KindAddress:
		if len(r.AllowNetworks) == 0 && len(r.DenyNetworks) == 0 {
			return nil, fail("denyNetworks", "set denyNetworks and/or allowNetworks (IPs or CIDRs)")
		}
	case KindPlayer:
		if len(r.Players) == 0 {
			return nil, fail("players", "list the players to match (e.g. [\"web\"], [\"Plex for Roku\"])")
		}
		if c.players, err = patterns("players", r.Players); err != nil {
			return nil, err
		}
	case KindTimeWindow:
		if r.Schedule == nil {
			return nil, fail("schedule", "a timeWindow rule needs a schedule ({\"from\": \"23:00\", \"to\": \"06:00\"})")
		}
	case KindDiagnostic:
		switch r.Condition {
		case ConditionStorm, ConditionCollision:
		default:
			return nil, fail("condition", "%q: use \"storm\" or \"collision\"", r.Condition)
		}
	}
	return c, nil
}

func kindList() string {
	var ks []string
	for _, k := range Kinds() {
		ks = append(ks, string(k.Kind))
	}
	return strings.Join(ks, ", ")
}

var mediaTypes = map[string]bool{"movie": true, "episode": true, "track": true, "clip": true, "photo": true, "livetv": true, "video": true, "music": true}

// checkTemplate reports an unknown {placeholder}.
// MaxMessageLen is the longest message template a rule may have, in
// characters. Plex carries the message in the terminate request's query
// string: a very long one is refused by the server (414) and the stream
// keeps playing, and players show a few lines at most.
const MaxMessageLen = 500

// maxRendered bounds a message once its placeholders are filled in (a
// long title); longer ones are cut with "…".
const maxRendered = 700

func checkTemplate(s string) error {
	if n := utf8.RuneCountInString(s); n > MaxMessageLen {
		return fmt.Errorf("the message is %d characters long; the limit is %d (Plex sends it in the request's address, players show a few lines)", n, MaxMessageLen)
	}
	for _, p := range placeholderRE.FindAllString(s, -1) {
		if !knownPlaceholders[strings.ToLower(p)] {
			return fmt.Errorf("unknown placeholder %s; use {user} {title} {player} {platform} {product} {quality} {rule} {reason}", p)
		}
	}
	return nil
}

func patterns(field string, list []string) ([]string, error) {
	out := make([]string, 0, len(list))
	for i, p := range list {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			return nil, &FileError{Rule: -1, Field: fmt.Sprintf("%s[%d]", field, i), Err: errors.New("an empty pattern")}
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, &FileError{Rule: -1, Field: fmt.Sprintf("%s[%d]", field, i), Err: fmt.Errorf("bad pattern %q", list[i])}
		}
		out = append(out, p)
	}
	return out, nil
}

func networks(field string, list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, s := range list {
		s = strings.TrimSpace(s)
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
			p = p.Masked()
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(s)
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if err != nil {
			return nil, &FileError{Rule: -1, Field: fmt.Sprintf("%s[%d]", field, i),
				Err: fmt.Errorf("%q is not an IP address or CIDR (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32)", s)}
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96) // ::ffff:10.0.0.0/104 is 10.0.0.0/8
		}
		out = append(out, p)
	}
	return out, nil
}
