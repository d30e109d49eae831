package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/internal/words"
	"github.com/plexwarden/plexwarden/plex"
)

// kindSpec is everything about one kind of rule: its description for the
// editor, the defaults of a new rule, the validation of its parameters,
// the test and the reason in words. A new kind is one entry in specs
// (plus its Kind constant, its Rule fields, docs/RULES.md and tests);
// TestKindSpecsComplete fails when a part is missing.
type kindSpec struct {
	KindInfo
	// defaults sets the parameters of a new rule (DefaultRule) so that it
	// is valid; nil when the kind needs none.
	defaults func(r *Rule)
	// validate checks the kind's own parameters (the common fields are
	// checked before) and parses them into c. Errors are *FileError with
	// Field set (use failField). Kinds without parameters use noParams.
	validate func(c *compiled) error
	// match tests one session in scope (per-session kinds); wake is when a
	// session not matching yet will without any new update (a pause
	// growing long enough). Exactly one of match and count is set.
	match func(c *compiled, s *app.Session, now time.Time) (ok bool, wake time.Time)
	// count picks, among the sessions, those over the kind's limit
	// (counting kinds: streams per user, transcodes per server), with
	// their reasons. Counting kinds run after the others and do not count
	// the sessions leaving reports.
	count func(c *compiled, sessions []app.Session, leaving func(int) bool) []hit
	// source reports whether match's answer for s depends on the source
	// of a transcode (its resolution, codec or bitrate as the library
	// describes it): while the read is under way (Session.SourcePending)
	// such a session is left alone, and judged when the monitor publishes
	// the source. nil: never.
	source func(c *compiled, s *app.Session) bool
	// reason says in words why the rule matches s (for a counting kind,
	// what s alone tells: the limit).
	reason func(c *compiled, s *app.Session, now time.Time) string
}

// specs are the kinds, in the order the GUI offers them.
var specs = []kindSpec{
	{
		KindInfo: KindInfo{
			Kind: KindTranscode, Name: "Video transcode",
			Description:    "Streams the server converts (transcodes) video for. Audio-only transcodes and transcodes that only burn subtitles in count when you switch them on.",
			DefaultMessage: "This server does not allow converted (transcoded) streams. {quality}",
			Params: []Param{
				{Field: "includeAudioOnly", Label: "Also audio-only transcodes", Type: ParamBool},
				{Field: "countSubtitleBurn", Label: "Subtitle burn-in counts as a video transcode", Type: ParamBool},
			},
		},
		validate: noParams,
		match: func(c *compiled, s *app.Session, _ time.Time) (bool, time.Time) {
			return videoTranscode(s, c.CountSubtitleBurn) || (c.IncludeAudioOnly && s.AudioOnly), time.Time{}
		},
		// Whether subtitles alone are burned in is judged by the source's
		// resolution (burnOnly).
		source: func(c *compiled, s *app.Session) bool { return s.SubtitleBurn && !c.CountSubtitleBurn },
		reason: func(_ *compiled, s *app.Session, _ time.Time) string { return transcodeReason(s) },
	},
	{
		KindInfo: KindInfo{
			Kind: KindSourceTranscode, Name: "Expensive transcode",
			Description:    "Video transcodes of high-resolution or costly sources: resolution at or above a limit (e.g. 4K) and/or a codec in a list (HEVC, AV1, …).",
			DefaultMessage: "This server cannot convert {reason} video for your player. {quality}",
			Params: []Param{
				{Field: "minResolution", Label: "Source resolution at or above", Type: ParamResolution, Choices: resolutionChoices()},
				{Field: "codecs", Label: "Source codec is one of", Type: ParamCodecs, Help: "e.g. hevc, av1, vp9"},
				{Field: "requireBoth", Label: "Both must match", Type: ParamBool},
				{Field: "countSubtitleBurn", Label: "Subtitle burn-in counts as a video transcode", Type: ParamBool},
			},
		},
		defaults: func(r *Rule) { r.MinResolution, r.Codecs = "4K", []string{"hevc", "av1"} },
		validate: validateSourceTranscode,
		match: func(c *compiled, s *app.Session, _ time.Time) (bool, time.Time) {
			if !videoTranscode(s, c.CountSubtitleBurn) {
				return false, time.Time{}
			}
			h := sourceHeight(s)
			resOK := c.minHeight > 0 && h >= c.minHeight
			codecOK := len(c.codecs) > 0 && c.codecs[plex.CodecName(s.SourceVideoCodec)]
			return (c.RequireBoth && resOK && codecOK) || (!c.RequireBoth && (resOK || codecOK)), time.Time{}
		},
		source: func(*compiled, *app.Session) bool { return true },
		reason: func(_ *compiled, s *app.Session, _ time.Time) string {
			return words.Join(s.SourceResolution, plex.CodecName(s.SourceVideoCodec))
		},
	},
	{
		KindInfo: KindInfo{
			Kind: KindBandwidth, Name: "Bandwidth",
			Description:    "Streams using more bandwidth than a limit (Plex's Session bandwidth), or with a source bitrate above it.",
			DefaultMessage: "This stream needs more bandwidth ({reason}) than this server allows. Lower the streaming quality on your player, then play again.",
			Params: []Param{
				{Field: "maxKbps", Label: "Limit (kbps)", Type: ParamKbps, Required: true, Help: "kilobits per second: 20000 is 20 Mbps"},
				{Field: "useSourceBitrate", Label: "Use the file's bitrate instead", Type: ParamBool},
			},
		},
		defaults: func(r *Rule) { r.MaxKbps = 20000 },
		validate: func(c *compiled) error {
			if c.MaxKbps <= 0 {
				return failField("maxKbps", "set a limit above 0 (kbps, e.g. 20000 for 20 Mbps)")
			}
			return nil
		},
		match: func(c *compiled, s *app.Session, _ time.Time) (bool, time.Time) {
			v := s.BandwidthKbps
			if c.UseSourceBitrate {
				v = s.BitrateKbps
			}
			return v > 0 && v > c.MaxKbps, time.Time{}
		},
		source: func(c *compiled, _ *app.Session) bool { return c.UseSourceBitrate },
		reason: func(c *compiled, s *app.Session, _ time.Time) string {
			if c.UseSourceBitrate {
				return fmt.Sprintf("bitrate %s, limit %s", mbps(s.BitrateKbps), mbps(c.MaxKbps))
			}
			return fmt.Sprintf("bandwidth %s, limit %s", mbps(s.BandwidthKbps), mbps(c.MaxKbps))
		},
	},
	{
		KindInfo: KindInfo{
			Kind: KindPaused, Name: "Paused too long",
			Description:    "Streams paused longer than a limit (they keep a transcoder or a slot busy).",
			DefaultMessage: "This stream was paused for a long time and was stopped to free the server. Press play to resume where you left off.",
			Params: []Param{
				{Field: "pausedFor", Label: "Paused for at least", Type: ParamDuration, Required: true},
			},
		},
		defaults: func(r *Rule) { r.PausedFor = Duration(30 * time.Minute) },
		validate: func(c *compiled) error {
			if c.PausedFor.Std() < time.Second {
				return failField("pausedFor", "set how long a pause may last, at least 1s (e.g. \"30m\")")
			}
			return nil
		},
		match: func(c *compiled, s *app.Session, now time.Time) (bool, time.Time) {
			since := pausedSince(s)
			if since.IsZero() {
				return false, time.Time{}
			}
			due := since.Add(c.PausedFor.Std())
			if now.Before(due) {
				return false, due
			}
			return true, time.Time{}
		},
		reason: func(c *compiled, s *app.Session, now time.Time) string {
			if since := pausedSince(s); !since.IsZero() && !now.Before(since) {
				return "paused for " + words.ShortDuration(now.Sub(since))
			}
			return "paused for more than " + words.ShortDuration(c.PausedFor.Std())
		},
	},
	{
		KindInfo: KindInfo{
			Kind: KindUserStreams, Name: "Streams per user",
			Description:    "Users with more streams at once than a limit, over all servers; the newest (or oldest) streams above the limit go. Can count distinct IP addresses instead.",
			DefaultMessage: "You are playing too many streams at once ({reason}). Stop one of them, then play again.",
			Params: []Param{
				{Field: "maxStreams", Label: "Streams allowed per user", Type: ParamInt, Required: true},
				{Field: "countIPs", Label: "Count IP addresses instead of streams", Type: ParamBool},
				{Field: "pick", Label: "Stop", Type: ParamPick, Choices: pickChoices},
			},
		},
		defaults: func(r *Rule) { r.MaxStreams, r.Pick = 2, PickNewest },
		validate: func(c *compiled) error {
			if c.MaxStreams < 1 {
				return failField("maxStreams", "set the streams (or addresses) a user may have at once, at least 1")
			}
			return nil
		},
		count: userStreams,
		reason: func(c *compiled, _ *app.Session, _ time.Time) string {
			what := "streams"
			if c.CountIPs {
				what = "addresses"
			}
			return fmt.Sprintf("more than %d %s at once", c.MaxStreams, what)
		},
	},
	{
		KindInfo: KindInfo{
			Kind: KindServerTranscodes, Name: "Transcodes per server",
			Description:    "More transcodes on one server than a limit; the newest (or oldest) above the limit go.",
			DefaultMessage: "The server is busy converting other streams right now. {quality}",
			Params: []Param{
				{Field: "maxTranscodes", Label: "Transcodes allowed", Type: ParamInt, Required: true},
				{Field: "includeAudioOnly", Label: "Count audio-only transcodes", Type: ParamBool},
				{Field: "countSubtitleBurn", Label: "Count subtitle burn-in", Type: ParamBool},
				{Field: "pick", Label: "Stop", Type: ParamPick, Choices: pickChoices},
			},
		},
		defaults: func(r *Rule) { r.MaxTranscodes, r.Pick = 2, PickNewest },
		validate: func(c *compiled) error {
			if c.MaxTranscodes < 1 {
				return failField("maxTranscodes", "set the transcodes a server may run at once, at least 1 (for none at all use a transcode rule)")
			}
			return nil
		},
		count: serverTranscodes,
		reason: func(c *compiled, s *app.Session, _ time.Time) string {
			return fmt.Sprintf("more than %d transcodes on %s", c.MaxTranscodes, s.Server)
		},
	},
	{
		KindInfo: KindInfo{
			Kind: KindRemote, Name: "Remote streams",
			Description:    "Streams from outside the local network, except from the allowed networks.",
			DefaultMessage: "Streaming from outside the home network is not allowed on this server.",
			Params: []Param{
				{Field: "allowNetworks", Label: "Allowed networks", Type: ParamNetworks, Help: networksHelp},
			},
		},
		validate: noParams, // allowNetworks is parsed for every kind
		match: func(c *compiled, s *app.Session, _ time.Time) (bool, time.Time) {
			if s.IsLAN() {
				return false, time.Time{}
			}
			a := s.Addr()
			return !(a.IsValid() && inAny(a, c.allow)), time.Time{}
		},
		reason: func(_ *compiled, s *app.Session, _ time.Time) string {
			if a := s.Addr(); a.IsValid() {
				return "remote stream from " + a.String()
			}
			return "remote stream"
		},
	},
	{
		KindInfo: KindInfo{
			Kind: KindAddress, Name: "IP address lists",
			Description:    "Streams from addresses in the deny list, or (when an allow list is set) from addresses outside it. IPv4 and IPv6 addresses and CIDRs.",
			DefaultMessage: "Streaming from this network is not allowed on this server.",
			Params: []Param{
				{Field: "denyNetworks", Label: "Deny", Type: ParamNetworks, Help: networksHelp},
				{Field: "allowNetworks", Label: "Allow only", Type: ParamNetworks, Help: networksHelp},
			},
		},
		defaults: func(r *Rule) { r.DenyNetworks = []string{"198.51.100.0/24"} },
		validate: func(c *compiled) error {
			if len(c.AllowNetworks) == 0 && len(c.DenyNetworks) == 0 {
				return failField("denyNetworks", "set denyNetworks and/or allowNetworks (IPs or CIDRs)")
			}
			return nil
		},
		match: func(c *compiled, s *app.Session, _ time.Time) (bool, time.Time) {
			a := s.Addr()
			if !a.IsValid() {
				return false, time.Time{} // no address: nothing to judge
			}
			return inAny(a, c.deny) || (len(c.allow) > 0 && !inAny(a, c.allow)), time.Time{}
		},
		reason: func(c *compiled, s *app.Session, _ time.Time) string {
			a := s.Addr()
			if !a.IsValid() {
				return "address " + s.Player.Address
			}
			if p, ok := firstIn(a, c.deny); ok {
				return fmt.Sprintf("address %s is in the denied network %s", a, p)
			}
			return fmt.Sprintf("address %s is not in an allowed network", a)
		},
	},
	{
		KindInfo: KindInfo{
			Kind: KindPlayer, Name: "Player",
			Description:    "Streams on given players, platforms or products (e.g. transcodes from Plex Web, with “Only transcodes”).",
			DefaultMessage: "This server does not allow this stream on {product}. {quality}",
			Params: []Param{
				{Field: "players", Label: "Players", Type: ParamPlayers, Required: true,
					Help: "family (web, roku, android, ios, tvos, smarttv, …), product, platform, device, player name or id; * wildcards"},
			},
		},
		defaults: func(r *Rule) { r.Players, r.OnlyTranscodes = []string{"web"}, true },
		validate: func(c *compiled) error {
			if len(c.Players) == 0 {
				return failField("players", "list the players to match (e.g. [\"web\"], [\"Plex for Roku\"])")
			}
			var err error
			c.players, err = patterns("players", c.Players)
			return err
		},
		match: func(c *compiled, s *app.Session, _ time.Time) (bool, time.Time) {
			return playerIn(c.players, &s.Player), time.Time{}
		},
		reason: func(_ *compiled, s *app.Session, _ time.Time) string { return "player " + playerName(s.Player) },
	},
	{
		KindInfo: KindInfo{
			Kind: KindTimeWindow, Name: "Time window",
			Description:    "Any stream (in scope) during the rule's schedule, e.g. nothing after 1:00 on school nights.",
			DefaultMessage: "Streaming is not available at this time ({reason}).",
			Params: []Param{
				{Field: "schedule", Label: "When", Type: ParamSchedule, Required: true},
			},
		},
		defaults: func(r *Rule) { r.Schedule = &Schedule{From: "01:00", To: "06:00"} },
		validate: func(c *compiled) error {
			if c.Schedule == nil {
				return failField("schedule", "a timeWindow rule needs a schedule ({\"from\": \"23:00\", \"to\": \"06:00\"})")
			}
			return nil
		},
		match:  func(*compiled, *app.Session, time.Time) (bool, time.Time) { return true, time.Time{} },
		reason: func(c *compiled, _ *app.Session, _ time.Time) string { return c.Schedule.String() },
	},
	{
		KindInfo: KindInfo{
			Kind: KindDiagnostic, Name: "Storm or collision",
			Description:    "Players caught in a transcode storm (restarting transcodes over and over) or sharing one client identifier with another player, as the Diagnostics view reports them. Stopping their transcodes protects the server.",
			DefaultMessage: "Your player was stopped because {reason}. Quit and reopen the Plex app, then play again.",
			Params: []Param{
				{Field: "condition", Label: "Condition", Type: ParamCondition, Required: true, Help: "storm or collision",
					Choices: []Choice{{ConditionStorm, "Transcode storm"}, {ConditionCollision, "Client-identifier collision"}}},
			},
		},
		defaults: func(r *Rule) { r.Condition, r.Action = ConditionStorm, ActionStopTranscode },
		validate: func(c *compiled) error {
			switch c.Condition {
			case ConditionStorm, ConditionCollision:
				return nil
			}
			return failField("condition", "%q: use \"storm\" or \"collision\"", c.Condition)
		},
		match: func(c *compiled, s *app.Session, _ time.Time) (bool, time.Time) {
			if c.diag == nil {
				return false, time.Time{}
			}
			id := s.Player.MachineIdentifier
			if c.Condition == ConditionCollision {
				return id != "" && c.diag.Colliding(s.Server, id), time.Time{}
			}
			return (id != "" && c.diag.Storming(s.Server, id)) || c.diag.StormingUser(s.Server, s.User), time.Time{}
		},
		reason: func(c *compiled, _ *app.Session, _ time.Time) string {
			if c.Condition == ConditionCollision {
				return "another player uses the same client identifier"
			}
			return "the player keeps restarting its stream (transcode storm)"
		},
	},
	{
		KindInfo: KindInfo{
			Kind: KindQuota, Name: "Playing time per user",
			Description:    "Users who played longer than a limit today (or this week), counted from the streams Plex Warden saw playing; with “Only transcodes”, transcoding time only. Their streams in scope are stopped until the period starts again (at local midnight, or Monday 00:00).",
			DefaultMessage: "You have used up your playing time on this server: {reason}.",
			Params: []Param{
				{Field: "quota", Label: "Playing time allowed", Type: ParamDuration, Required: true, Help: "per day or week, e.g. 2h; with “Only transcodes”, transcoding time only"},
				{Field: "period", Label: "Per", Type: ParamPeriod, Choices: []Choice{{PeriodDay, "day (from local midnight)"}, {PeriodWeek, "week (from Monday 00:00)"}}},
				{Field: "warnBefore", Label: "Warn me before the limit", Type: ParamDuration, Help: "a notification and a history line this long before; Plex cannot message a player without stopping it; 0 = none"},
			},
		},
		defaults: func(r *Rule) { r.Quota, r.Period = Duration(2*time.Hour), PeriodDay },
		validate: validateQuota,
		match:    quotaMatch,
		reason:   quotaReason,
	},
}

// networksHelp is the hint of a list of networks.
const networksHelp = "IP addresses or CIDRs, one a line or with commas"

// pickChoices are the values of a "pick" parameter.
var pickChoices = []Choice{{PickNewest, "the newest streams"}, {PickOldest, "the oldest streams"}}

// resolutionChoices are the values of a "resolution" parameter: none,
// then Resolutions.
func resolutionChoices() []Choice {
	out := []Choice{{"", "Any (codec only)"}}
	for _, r := range Resolutions {
		out = append(out, Choice{r, r})
	}
	return out
}

// specOf returns the spec of kind k.
func specOf(k Kind) (*kindSpec, bool) {
	for i := range specs {
		if specs[i].Kind == k {
			return &specs[i], true
		}
	}
	return nil, false
}

// noParams is the validation of a kind without parameters of its own.
func noParams(*compiled) error { return nil }

// failField is a validation error about field.
func failField(field, format string, a ...any) error {
	return &FileError{Rule: -1, Field: field, Err: fmt.Errorf(format, a...)}
}

func validateSourceTranscode(c *compiled) error {
	r := c.Rule
	if r.MinResolution == "" && len(r.Codecs) == 0 {
		return failField("minResolution", "set minResolution (e.g. \"4K\") and/or codecs (e.g. [\"hevc\", \"av1\"])")
	}
	if r.MinResolution != "" {
		c.minHeight = plex.ResolutionHeight(plex.ResolutionLabel(r.MinResolution, 0))
		if c.minHeight == 0 {
			return failField("minResolution", "%q is not a resolution; use 8K, 4K, 1440p, 1080p, 720p, 576p, 480p or SD", r.MinResolution)
		}
	}
	c.codecs = map[string]bool{}
	for i, k := range r.Codecs {
		if strings.TrimSpace(k) == "" {
			return failField(fmt.Sprintf("codecs[%d]", i), "an empty codec")
		}
		c.codecs[plex.CodecName(strings.TrimSpace(k))] = true
	}
	if r.RequireBoth && (r.MinResolution == "" || len(r.Codecs) == 0) {
		return failField("requireBoth", "needs both minResolution and codecs")
	}
	return nil
}
