package app

import (
	"net/netip"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

// Player is the device side of a Session, as printed by `sessions --json`.
type Player struct {
	Title             string `json:"title"`
	Product           string `json:"product"`
	Platform          string `json:"platform"`
	Device            string `json:"device"`
	Address           string `json:"address"`
	Local             bool   `json:"local"`
	MachineIdentifier string `json:"machineIdentifier"`
}

// Session is one live playback, flattened and classified. It is a value: a
// Snapshot's sessions are never modified after the snapshot is published.
type Session struct {
	Server           string        `json:"server"`
	ID               string        `json:"id"` // Session.id: what terminate takes; may be empty
	SessionKey       string        `json:"sessionKey"`
	User             string        `json:"user"`
	UserID           string        `json:"userId,omitempty"`
	Title            string        `json:"title"`
	Type             string        `json:"type"`
	Kind             plex.Kind     `json:"kind"`
	Library          string        `json:"library,omitempty"`
	LibrarySectionID string        `json:"librarySectionId,omitempty"`
	State            string        `json:"state"`
	Player           Player        `json:"player"`
	Decision         plex.Decision `json:"decision"`
	Reason           string        `json:"reason"`
	Short            string        `json:"short"`
	VideoDecision    string        `json:"videoDecision"`
	AudioDecision    string        `json:"audioDecision"`
	SubtitleDecision string        `json:"subtitleDecision"`
	VideoTranscode   bool          `json:"videoTranscode"`
	AudioOnly        bool          `json:"audioOnlyTranscode"`
	SubtitleBurn     bool          `json:"subtitleBurn"`
	HWTranscode      bool          `json:"hwTranscode"`
	HW               string        `json:"hw,omitempty"`
	TranscodeKey     string        `json:"transcodeKey"`
	SourceResolution string        `json:"sourceResolution"`
	SourceHeight     int           `json:"sourceHeight,omitempty"`
	SourceVideoCodec string        `json:"sourceVideoCodec,omitempty"`
	SourceAudioCodec string        `json:"sourceAudioCodec,omitempty"`
	TargetResolution string        `json:"targetResolution,omitempty"`
	TargetVideoCodec string        `json:"targetVideoCodec,omitempty"`
	TargetAudioCodec string        `json:"targetAudioCodec,omitempty"`
	// BitrateKbps is the source's bitrate (0 while unknown: Plex lists a
	// transcode's output, the source is read from the library).
	BitrateKbps       int64 `json:"bitrateKbps,omitempty"`
	TargetBitrateKbps int64 `json:"targetBitrateKbps,omitempty"`
	// SourceKnown: the source comes from the library's description of the
	// version played (or the session is played directly), not only from
	// what the transcode's list entry names.
	SourceKnown bool `json:"sourceKnown"`
	// SourcePending: the library read for the source is under way. The
	// monitor publishes a new transcode at once, judged from its list
	// entry, and again when the read is done; rules whose test depends on
	// the source (Rule kinds sourceTranscode, bandwidth by the file's
	// bitrate, a transcode that may only burn subtitles) wait for it.
	SourcePending     bool      `json:"sourcePending,omitempty"`
	BandwidthKbps     int64     `json:"bandwidthKbps"`
	Location          string    `json:"location,omitempty"` // lan, wan, cellular
	Relayed           bool      `json:"relayed,omitempty"`
	ViewOffsetMs      int64     `json:"viewOffsetMs"`
	DurationMs        int64     `json:"durationMs"`
	TranscodeSpeed    float64   `json:"transcodeSpeed,omitempty"`
	TranscodeProgress float64   `json:"transcodeProgress,omitempty"`
	Throttled         bool      `json:"throttled,omitempty"`
	FirstSeen         time.Time `json:"firstSeen"`
	StateSince        time.Time `json:"stateSince"` // when State last changed (paused-too-long)
	// Leaving says why a session still listed is on its way out ("stopped",
	// "terminated", "replaced by a newer session on the same player"):
	// Plex keeps such sessions listed for a few seconds. Rules neither act
	// on nor count them.
	Leaving string `json:"leaving,omitempty"`
	// Thumb is the path of the item's poster on the server (a show's for
	// an episode), for plex.Client.Thumb; empty when Plex sends none.
	Thumb string `json:"thumb,omitempty"`
}

// Key identifies a session across snapshots of one server: the sessionKey,
// or the Session id when a server sends no sessionKey.
func (s *Session) Key() string {
	if s.SessionKey != "" {
		return s.Server + "/" + s.SessionKey
	}
	return s.Server + "/id:" + s.ID
}

// SameUser reports whether s and o are played by the same user: the same
// Plex account id when both have one, else the same name (any case); an
// unknown user is nobody's.
func (s *Session) SameUser(o *Session) bool {
	if s.UserID != "" && o.UserID != "" {
		return s.UserID == o.UserID
	}
	known := func(name string) bool { return name != "" && name != "(unknown user)" }
	return known(s.User) && strings.EqualFold(s.User, o.User)
}

// IsLAN reports whether s plays on the local network: Plex's
// Session.location when it says, else Player.local when sent, else a
// private (including IPv6 ULA), loopback or link-local player address,
// IPv4 or IPv6, ::ffff:-mapped addresses included (docs/RULES.md).
func (s *Session) IsLAN() bool {
	switch strings.ToLower(s.Location) {
	case "lan":
		return true
	case "wan", "cellular":
		return false
	}
	if s.Player.Local {
		return true
	}
	a := s.Addr()
	return a.IsValid() && (a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast())
}

// Addr is the player's address, unmapped and without zone; invalid when
// missing or unparsable.
func (s *Session) Addr() netip.Addr {
	a, err := netip.ParseAddr(strings.TrimSpace(s.Player.Address))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// Seq is the sessionKey as a number (Plex numbers sessions in the order
// they start), or -1 when it is not one.
func (s *Session) Seq() int64 {
	k := s.SessionKey
	if k == "" || len(k) > 18 {
		return -1
	}
	var n int64
	for _, c := range k {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// Transcoding reports whether the transcoder is converting video or audio.
func (s *Session) Transcoding() bool { return s.Decision == plex.Transcode }

// Progress returns the play position as a fraction 0..1, or 0 when unknown.
func (s *Session) Progress() float64 {
	if s.DurationMs <= 0 {
		return 0
	}
	p := float64(s.ViewOffsetMs) / float64(s.DurationMs)
	return min(max(p, 0), 1)
}

// posterPath is the poster of m: the show's for an episode, else the
// item's own.
func posterPath(m *plex.Metadata) string {
	if m.Type == "episode" && m.GrandparentThumb != "" {
		return m.GrandparentThumb
	}
	if m.Thumb != "" {
		return m.Thumb
	}
	return m.GrandparentThumb
}

// NewSession flattens and classifies a /status/sessions item of server
// from the item alone. FirstSeen and StateSince are set to now; the
// monitor carries them over from earlier snapshots.
func NewSession(server string, m *plex.Metadata, now time.Time) Session {
	return NewSessionSource(server, m, nil, now)
}

// NewSessionSource is NewSession with src, the version of the item's file
// the session plays as the library describes it (Sources.For), or nil.
func NewSessionSource(server string, m *plex.Metadata, src *plex.Media, now time.Time) Session {
	s := Session{
		Server:           server,
		SessionKey:       string(m.SessionKey),
		Title:            plex.DisplayTitle(m),
		Type:             m.Type,
		Kind:             plex.PlaybackKind(m),
		Library:          m.LibrarySectionTitle,
		LibrarySectionID: string(m.LibrarySectionID),
		Location:         plex.Location(m),
		ViewOffsetMs:     int64(m.ViewOffset),
		DurationMs:       int64(m.Duration),
		FirstSeen:        now,
		StateSince:       now,
		Thumb:            posterPath(m),
	}
	if m.User != nil {
		s.User, s.UserID = m.User.Title, string(m.User.ID)
	}
	if p := m.Player; p != nil {
		s.Player = Player{
			Title:             p.Title,
			Product:           p.Product,
			Platform:          p.Platform,
			Device:            p.Device,
			Address:           plex.CleanAddress(p.Address),
			Local:             p.Local.IsTrue(),
			MachineIdentifier: string(p.MachineIdentifier),
		}
		s.State = p.State
		s.Relayed = bool(p.Relayed)
	}
	if s.Location == "lan" {
		s.Player.Local = true
	}
	if m.Session != nil {
		s.ID = string(m.Session.ID)
		s.BandwidthKbps = int64(m.Session.Bandwidth)
	}
	if ts := m.TranscodeSession; ts != nil {
		s.TranscodeKey = ts.ID()
		s.TranscodeSpeed = float64(ts.Speed)
		s.TranscodeProgress = float64(ts.Progress)
		s.Throttled = bool(ts.Throttled)
	}
	if s.User == "" {
		s.User = "(unknown user)"
	}
	s.classify(m, src)
	return s
}

// classify sets what the classification of item m tells (the decision,
// its reasons, source and target), with src the version of the file
// played as the library describes it, or nil.
func (s *Session) classify(m *plex.Metadata, src *plex.Media) {
	c := plex.ClassifySource(m, src)
	s.Decision = c.Decision
	s.Reason = c.Reason()
	s.Short = c.Short()
	s.VideoDecision, s.AudioDecision, s.SubtitleDecision = c.VideoDecision, c.AudioDecision, c.SubtitleDecision
	s.VideoTranscode, s.AudioOnly, s.SubtitleBurn = c.VideoTranscode, c.AudioOnly, c.SubtitleBurn
	s.HWTranscode = c.Decision != plex.DirectPlay && c.HW.Active()
	s.HW = c.HW.String()
	s.SourceResolution, s.SourceHeight, s.SourceVideoCodec, s.SourceAudioCodec = c.SourceResolution, c.SourceHeight, c.SourceVideoCodec, c.SourceAudioCodec
	s.TargetResolution, s.TargetVideoCodec, s.TargetAudioCodec = c.TargetResolution, c.TargetVideoCodec, c.TargetAudioCodec
	s.BitrateKbps, s.TargetBitrateKbps = c.BitrateKbps, c.TargetBitrateKbps
	s.SourceKnown = src != nil || c.Decision != plex.Transcode
}
