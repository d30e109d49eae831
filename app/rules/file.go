package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
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
	KindQuota            Kind = "quota"            // users past their playing time per day or week
)

// Action is what a rule does to a session it matches.
type Action string

// The actions.
const (
	ActionTerminate     Action = "terminate"     // stop the session with the message (default)
	ActionTerminateUser Action = "terminateUser" // stop every stream of the session's user, on every server, each with its message
	ActionStopTranscode Action = "stopTranscode" // kill its transcode only (no message; playback breaks)
	ActionNotify        Action = "notify"        // desktop notification only
	ActionLog           Action = "log"           // history only: a per-rule dry run
)

// Scopes of a cool-down (Rule.CoolDownScope).
const (
	CoolDownAll  = "all"  // every new stream of the user (default)
	CoolDownRule = "rule" // only new streams in the rule's scope
)

// Periods of a quota (Rule.Period).
const (
	PeriodDay  = "day"  // from local midnight (default)
	PeriodWeek = "week" // from Monday 00:00 local time
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
	// CoolDown: after the rule stopped a stream of a user, that user's new
	// streams are stopped at once for this long (a temporary block), with
	// a message saying when they can play again. 0: no cool-down.
	CoolDown Duration `json:"coolDown,omitempty"`
	// CoolDownScope is CoolDownAll (default: every new stream of the
	// user) or CoolDownRule (only new streams in the rule's scope).
	CoolDownScope string `json:"coolDownScope,omitempty"`

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
	// quota: a user's playing time (only transcodes with OnlyTranscodes)
	// in the rule's scope per Period, counted from the sessions Plex Warden
	// saw playing; past Quota their streams in scope match. WarnBefore > 0
	// notifies the admin (and the history) that long before the limit.
	Quota      Duration `json:"quota,omitempty"`
	Period     string   `json:"period,omitempty"`
	WarnBefore Duration `json:"warnBefore,omitempty"`
}

// Scope limits a rule to some sessions; empty lists mean all.
type Scope struct {
	Users   []string `json:"users,omitempty"`   // user names or ids
	Players []string `json:"players,omitempty"` // patterns: family, product, platform, device, player name or id; * and ? wildcards
	// Devices are players' machineIdentifiers, matched exactly.
	Devices []string `json:"devices,omitempty"`
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
	Devices []string `json:"devices,omitempty"` // machineIdentifiers, matched exactly
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
	if sp, ok := specOf(k); ok && sp.defaults != nil {
		sp.defaults(&r)
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
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if old, err := os.ReadFile(path); err == nil && !bytes.Equal(old, b) {
		if err := app.WriteFileAtomic(path+".bak", old); err != nil {
			return fmt.Errorf("keeping a backup of %s: %w", path, err)
		}
	}
	return app.WriteFileAtomic(path, b)
}
