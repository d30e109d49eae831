package rules

// KindInfo describes a kind of rule for the GUI's rule editor.
type KindInfo struct {
	Kind           Kind    // the value of Rule.Kind
	Name           string  // short title, e.g. "Video transcode"
	Description    string  // one or two sentences
	DefaultMessage string  // template used when Rule.Message is empty
	Params         []Param // the kind's own fields, in display order
}

// Param describes one kind-specific field of Rule.
type Param struct {
	Field string // JSON name in the rules file (and the Rule field's tag)
	Label string // for the editor, e.g. "Limit (kbps)"
	// Type is how to edit it: "bool", "int", "kbps", "duration",
	// "resolution", "codecs", "networks", "players" or "pick".
	Type     string
	Help     string // a hint, or ""
	Required bool   // the kind is invalid without it
}

// Common is the list of fields every kind has, for the editor's shared
// part: name, enabled, action, grace, message(s), fallbackStopTranscode,
// onlyTranscodes, onlyRemote, scope, exempt, schedule.
var Common = []Param{
	{Field: "action", Label: "Action", Type: "action", Help: "terminate with the message, stop the transcode only, notify only, or log only (dry run)"},
	{Field: "grace", Label: "Grace delay", Type: "duration", Help: "act only if the session still matches after this long; 0 acts at once"},
	{Field: "message", Label: "Message", Type: "template", Help: "what the player shows; empty uses the default"},
	{Field: "messages", Label: "Per-player messages", Type: "templates", Help: "overrides keyed by player family (roku, web, …) or product"},
	{Field: "fallbackStopTranscode", Label: "Stop the transcode if terminate is refused", Type: "bool", Help: "when the server has no Plex Pass or the token is not the owner's"},
	{Field: "onlyTranscodes", Label: "Only transcodes", Type: "bool"},
	{Field: "onlyRemote", Label: "Only remote streams", Type: "bool"},
	{Field: "scope", Label: "Applies to", Type: "scope", Help: "users, players, servers, libraries, media types; empty = all"},
	{Field: "exempt", Label: "Never", Type: "exempt", Help: "users, players, or streams on the LAN"},
	{Field: "schedule", Label: "Active", Type: "schedule", Help: "days and hours the rule is active; none = always"},
}

var kinds = []KindInfo{
	{
		Kind: KindTranscode, Name: "Video transcode",
		Description:    "Streams the server converts (transcodes) video for. Audio-only transcodes and transcodes that only burn subtitles in count when you switch them on.",
		DefaultMessage: "This server does not allow converted (transcoded) streams. {quality}",
		Params: []Param{
			{Field: "includeAudioOnly", Label: "Also audio-only transcodes", Type: "bool"},
			{Field: "countSubtitleBurn", Label: "Subtitle burn-in counts as a video transcode", Type: "bool"},
		},
	},
	{
		Kind: KindSourceTranscode, Name: "Expensive transcode",
		Description:    "Video transcodes of high-resolution or costly sources: resolution at or above a limit (e.g. 4K) and/or a codec in a list (HEVC, AV1, …).",
		DefaultMessage: "This server cannot convert {reason} video for your player. {quality}",
		Params: []Param{
			{Field: "minResolution", Label: "Source resolution at or above", Type: "resolution"},
			{Field: "codecs", Label: "Source codec is one of", Type: "codecs"},
			{Field: "requireBoth", Label: "Both must match", Type: "bool"},
			{Field: "countSubtitleBurn", Label: "Subtitle burn-in counts as a video transcode", Type: "bool"},
		},
	},
	{
		Kind: KindBandwidth, Name: "Bandwidth",
		Description:    "Streams using more bandwidth than a limit (Plex's Session bandwidth), or with a source bitrate above it.",
		DefaultMessage: "This stream needs more bandwidth ({reason}) than this server allows. Lower the streaming quality on your player, then play again.",
		Params: []Param{
			{Field: "maxKbps", Label: "Limit (kbps)", Type: "kbps", Required: true},
			{Field: "useSourceBitrate", Label: "Use the file's bitrate instead", Type: "bool"},
		},
	},
	{
		Kind: KindPaused, Name: "Paused too long",
		Description:    "Streams paused longer than a limit (they keep a transcoder or a slot busy).",
		DefaultMessage: "This stream was paused for a long time and was stopped to free the server. Press play to resume where you left off.",
		Params: []Param{
			{Field: "pausedFor", Label: "Paused for at least", Type: "duration", Required: true},
		},
	},
	{
		Kind: KindUserStreams, Name: "Streams per user",
		Description:    "Users with more streams at once than a limit, over all servers; the newest (or oldest) streams above the limit go. Can count distinct IP addresses instead.",
		DefaultMessage: "You are playing too many streams at once ({reason}). Stop one of them, then play again.",
		Params: []Param{
			{Field: "maxStreams", Label: "Streams allowed per user", Type: "int", Required: true},
			{Field: "countIPs", Label: "Count IP addresses instead of streams", Type: "bool"},
			{Field: "pick", Label: "Stop", Type: "pick"},
		},
	},
	{
		Kind: KindServerTranscodes, Name: "Transcodes per server",
		Description:    "More transcodes on one server than a limit; the newest (or oldest) above the limit go.",
		DefaultMessage: "The server is busy converting other streams right now. {quality}",
		Params: []Param{
			{Field: "maxTranscodes", Label: "Transcodes allowed", Type: "int", Required: true},
			{Field: "includeAudioOnly", Label: "Count audio-only transcodes", Type: "bool"},
			{Field: "countSubtitleBurn", Label: "Count subtitle burn-in", Type: "bool"},
			{Field: "pick", Label: "Stop", Type: "pick"},
		},
	},
	{
		Kind: KindRemote, Name: "Remote streams",
		Description:    "Streams from outside the local network, except from the allowed networks.",
		DefaultMessage: "Streaming from outside the home network is not allowed on this server.",
		Params: []Param{
			{Field: "allowNetworks", Label: "Allowed networks", Type: "networks"},
		},
	},
	{
		Kind: KindAddress, Name: "IP address lists",
		Description:    "Streams from addresses in the deny list, or (when an allow list is set) from addresses outside it. IPv4 and IPv6 addresses and CIDRs.",
		DefaultMessage: "Streaming from this network is not allowed on this server.",
		Params: []Param{
			{Field: "denyNetworks", Label: "Deny", Type: "networks"},
			{Field: "allowNetworks", Label: "Allow only", Type: "networks"},
		},
	},
	{
		Kind: KindPlayer, Name: "Player",
		Description:    "Streams on given players, platforms or products (e.g. transcodes from Plex Web, with “Only transcodes”).",
		DefaultMessage: "This server does not allow this stream on {product}. {quality}",
		Params: []Param{
			{Field: "players", Label: "Players", Type: "players", Required: true,
				Help: "family (web, roku, android, ios, tvos, smarttv, …), product, platform, device, player name or id; * wildcards"},
		},
	},
	{
		Kind: KindTimeWindow, Name: "Time window",
		Description:    "Any stream (in scope) during the rule's schedule, e.g. nothing after 1:00 on school nights.",
		DefaultMessage: "Streaming is not available at this time ({reason}).",
		Params: []Param{
			{Field: "schedule", Label: "When", Type: "schedule", Required: true},
		},
	},
	{
		Kind: KindDiagnostic, Name: "Storm or collision",
		Description:    "Players caught in a transcode storm (restarting transcodes over and over) or sharing one client identifier with another player, as the Diagnostics view reports them. Stopping their transcodes protects the server.",
		DefaultMessage: "Your player was stopped because {reason}. Quit and reopen the Plex app, then play again.",
		Params: []Param{
			{Field: "condition", Label: "Condition", Type: "condition", Required: true, Help: "storm or collision"},
		},
	},
}

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

// Kinds describes every kind of rule, in the order the GUI offers them.
// The returned slice is a copy.
func Kinds() []KindInfo {
	out := make([]KindInfo, len(kinds))
	copy(out, kinds)
	return out
}

func kindInfo(k Kind) (KindInfo, bool) {
	for _, ki := range kinds {
		if ki.Kind == k {
			return ki, true
		}
	}
	return KindInfo{}, false
}
