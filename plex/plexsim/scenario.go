package plexsim

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

// Player states a session can be put in with SetState.
const (
	StatePlaying   = "playing"
	StatePaused    = "paused"
	StateBuffering = "buffering"
	StateStopped   = "stopped" // only in the playing event that ends a session
)

// Transcode decisions for TranscodeSpec.
const (
	DecisionTranscode = "transcode"
	DecisionCopy      = "copy"
	DecisionBurn      = "burn"
)

// SessionSpec describes one playback to simulate. Zero fields get plausible
// defaults (see AddSession).
type SessionSpec struct {
	User, UserID string     // default "owner", "1" (the server owner)
	Player       PlayerSpec // the device playing
	Type         string     // "movie" (default), "episode", "track" or "clip"
	Title        string     // the item: movie, episode or track title
	Show         string     // episodes: the series; tracks: the artist
	Album        string     // tracks: the album
	Season       int        // episodes: season number (parentIndex)
	Episode      int        // episodes: episode number (index)
	Year         int        // release year, optional
	RatingKey    string     // default derived from the title
	DurationMs   int64      // default by type (movie 110 min, episode 45, track 4, clip 2)
	ViewOffsetMs int64      // starting position
	Library      string     // librarySectionTitle, default by type ("Movies", "TV Shows", "Music", …)
	LibraryID    string     // librarySectionID, default by type
	Resolution   string     // "4k", "1080" (default for video), "720", "sd"; none for tracks
	VideoCodec   string     // source video codec, default "h264" (none for tracks)
	AudioCodec   string     // source audio codec, default "aac" ("flac" for tracks)
	BitrateKbps  int64      // source bitrate, default by resolution
	// BandwidthKbps is Session.bandwidth; default the source bitrate, or the
	// transcoded bitrate while transcoding video.
	BandwidthKbps int64
	Local         bool           // on the LAN (Session.location "lan"), else "wan"
	Address       string         // player address; default 192.168.1.x (local) or 203.0.113.x
	State         string         // "playing" (default), "paused" or "buffering"
	Transcode     *TranscodeSpec // nil = direct play
	Subtitles     string         // codec of a selected subtitle stream ("srt", "pgs"); optional
	Zombie        bool           // the player ignores terminate: 200, but the session stays
	// NoLocation leaves out Session.location and Player.local, as some
	// servers and players do: only the address tells where the player is.
	NoLocation bool
	// Relayed: the player reaches the server through plex.tv's relay
	// (Player.relayed, address 127.0.0.1).
	Relayed bool
	// Cellular: a remote player on a mobile network (Session.location
	// "cellular").
	Cellular bool
	// LiveTV: a Live TV channel (key /livetv/sessions/<uuid>, live="1", a
	// ratingKey that is no library key, no /library/metadata).
	LiveTV bool
	// SilentStop: when the session ends (terminated, stopped), no playing
	// "stopped" event is sent: the player was told to stop and never
	// reported it, so only the list shows it leaving, seconds later.
	SilentStop bool
	// NoSessionID leaves out Session.id (Plexamp-like players): such a
	// session cannot be terminated by id.
	NoSessionID bool
	// Versions are the item's other versions (a 4K and a 1080p copy of one
	// film), listed by /library/metadata before the one played.
	Versions []VersionSpec
}

// VersionSpec is another version (Media) of a library item.
type VersionSpec struct {
	Resolution  string // "4k", "1080", …
	VideoCodec  string // default "h264"
	AudioCodec  string // default "aac"
	BitrateKbps int64  // default by resolution
}

// leavingSession is a stopped session still listed until until.
type leavingSession struct {
	ss    *simSession
	until time.Time
}

// PlayerSpec describes the player device (Player element, and the
// clientIdentifier of playing events).
type PlayerSpec struct {
	MachineID       string // Player.machineIdentifier; default random
	Title           string // device name, e.g. "Living Room"
	Product         string // e.g. "Plex Web", "Plex for Roku"
	Platform        string // e.g. "Chrome", "Roku", "tvOS"
	PlatformVersion string // optional
	Device          string // e.g. "Apple TV", "Roku Ultra", "Windows"
}

// TranscodeSpec describes a transcoder job. Video and Audio are
// "transcode" or "copy" (empty means copy); Subtitle is "burn", "transcode",
// "copy" or empty (no subtitle work). Video copy plus audio copy is a direct
// stream.
type TranscodeSpec struct {
	Video, Audio, Subtitle string
	TargetHeight           int     // default: 4K→1080, 1080→720, else 480 (video transcode only)
	TargetVideoCodec       string  // default "h264"
	TargetAudioCodec       string  // default "aac"
	HW                     bool    // hardware transcoding (Intel QuickSync)
	Speed                  float64 // default 1.5 (software) or 4.0 (HW)
	Throttled              bool
}

// SessionRef identifies a session added with AddSession: Key is the
// sessionKey, ID the Session.id terminate wants, TranscodeKey the bare
// transcode id ("" for direct play).
type SessionRef struct {
	Key, ID, TranscodeKey string
}

// simSession is the state of one playback.
type simSession struct {
	key       string // sessionKey
	id        string // Session.id
	spec      SessionSpec
	offset    int64
	state     string
	pqItem    int
	tc        *simTranscode
	createdAt time.Time
}

type simTranscode struct {
	spec     TranscodeSpec
	id       string // bare key
	started  time.Time
	startMs  int64   // viewOffset when the job started (minOffsetAvailable)
	progress float64 // percent
}

// randIDLocked returns a Plex-looking random id (lower-case letters and digits).
func (s *Server) randIDLocked(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.rng.IntN(len(alphabet))]
	}
	return string(b)
}

func hashNum(s string, mod uint64) uint64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, s)
	return h.Sum64() % mod
}

// videoDefaults fills a video version's codecs (H.264, AAC) and bitrate
// (by resolution) where they are not given.
func videoDefaults(res, video, audio string, kbps int64) (string, string, int64) {
	if video == "" {
		video = "h264"
	}
	if audio == "" {
		audio = "aac"
	}
	if kbps <= 0 {
		kbps = defaultBitrate(res, audio)
	}
	return video, audio, kbps
}

// normalise fills the defaults of a spec.
func (s *Server) normaliseLocked(spec SessionSpec) SessionSpec {
	if spec.Type == "" {
		spec.Type = "movie"
	}
	isTrack := spec.Type == "track"
	if spec.Title == "" {
		spec.Title = "Untitled"
	}
	if spec.User == "" {
		spec.User = "owner"
		if spec.UserID == "" {
			spec.UserID = "1"
		}
	}
	if spec.UserID == "" {
		spec.UserID = strconv.FormatUint(1000000+hashNum("user:"+spec.User, 89000000), 10)
	}
	if spec.State == "" {
		spec.State = StatePlaying
	}
	if spec.DurationMs <= 0 {
		switch spec.Type {
		case "episode":
			spec.DurationMs = 45 * 60 * 1000
		case "track":
			spec.DurationMs = 4 * 60 * 1000
		case "clip":
			spec.DurationMs = 2 * 60 * 1000
		default:
			spec.DurationMs = 110 * 60 * 1000
		}
	}
	spec.ViewOffsetMs = max(0, min(spec.ViewOffsetMs, spec.DurationMs-1))
	if spec.Type == "episode" {
		spec.Season, spec.Episode = max(spec.Season, 1), max(spec.Episode, 1)
	}
	if spec.Library == "" || spec.LibraryID == "" {
		lib, id := "Movies", "1"
		switch spec.Type {
		case "episode":
			lib, id = "TV Shows", "2"
		case "track":
			lib, id = "Music", "3"
		case "clip":
			lib, id = "Home Videos", "4"
		}
		if spec.Library == "" {
			spec.Library = lib
		}
		if spec.LibraryID == "" {
			spec.LibraryID = id
		}
	}
	if spec.RatingKey == "" {
		spec.RatingKey = strconv.FormatUint(1000+hashNum(spec.Type+"/"+spec.Show+"/"+spec.Title, 90000), 10)
		if spec.LiveTV {
			spec.RatingKey = fmt.Sprintf("%016x", hashNum("live/"+spec.Title, math.MaxUint64))
		}
	}
	if isTrack {
		spec.Resolution, spec.VideoCodec = "", ""
		if spec.AudioCodec == "" {
			spec.AudioCodec = "flac"
		}
	} else {
		spec.Resolution = strings.ToLower(spec.Resolution)
		if spec.Resolution == "" {
			spec.Resolution = "1080"
		}
		spec.VideoCodec, spec.AudioCodec, spec.BitrateKbps = videoDefaults(spec.Resolution, spec.VideoCodec, spec.AudioCodec, spec.BitrateKbps)
	}
	if spec.BitrateKbps <= 0 {
		spec.BitrateKbps = defaultBitrate(spec.Resolution, spec.AudioCodec)
	}
	p := &spec.Player
	if p.MachineID == "" {
		p.MachineID = s.randIDLocked(24)
	}
	if p.Product == "" {
		p.Product = "Plex Web"
	}
	if p.Platform == "" {
		p.Platform = "Chrome"
	}
	if p.Title == "" {
		p.Title = p.Platform
	}
	if p.Device == "" {
		p.Device = p.Platform
	}
	if spec.Address == "" {
		n := 10 + hashNum(p.MachineID, 200)
		if spec.Local {
			spec.Address = fmt.Sprintf("192.168.1.%d", n)
		} else {
			spec.Address = fmt.Sprintf("203.0.113.%d", n)
		}
	}
	return spec
}

func normaliseTranscode(t TranscodeSpec, spec SessionSpec) TranscodeSpec {
	if t.Video == "" && spec.Type != "track" {
		t.Video = DecisionCopy
	}
	if spec.Type == "track" {
		t.Video, t.Subtitle, t.TargetHeight = "", "", 0
	}
	if t.Audio == "" {
		t.Audio = DecisionCopy
	}
	if t.Subtitle == DecisionBurn {
		// Burning subtitles in means re-encoding the picture.
		t.Video = DecisionTranscode
	}
	if t.Video == DecisionTranscode {
		if t.TargetHeight <= 0 {
			_, h := sourceDims(spec.Resolution)
			switch {
			case h >= 2160:
				t.TargetHeight = 1080
			case h >= 1080 && t.Subtitle != DecisionBurn:
				t.TargetHeight = 720
			case h >= 1080:
				t.TargetHeight = 1080
			default:
				t.TargetHeight = 480
			}
		}
		if t.TargetVideoCodec == "" {
			t.TargetVideoCodec = "h264"
		}
	}
	if t.Audio == DecisionTranscode && t.TargetAudioCodec == "" {
		t.TargetAudioCodec = "aac"
	}
	if t.Speed <= 0 {
		t.Speed = 1.5
		if t.HW {
			t.Speed = 4.0
		}
		if t.Video != DecisionTranscode {
			t.Speed = 12.0 // remux and audio-only jobs run far ahead
		}
	}
	return t
}

func (s *Server) newTranscodeLocked(t TranscodeSpec, ss *simSession) *simTranscode {
	t = normaliseTranscode(t, ss.spec)
	pct := 0.0
	if ss.spec.DurationMs > 0 {
		pct = float64(ss.offset) / float64(ss.spec.DurationMs) * 100
	}
	return &simTranscode{spec: t, id: s.randIDLocked(24), started: s.now(), startMs: ss.offset, progress: math.Min(100, pct+1)}
}

// AddSession starts a playback and emits what a server emits:
// transcodeSession.start when the transcoder is involved, then playing. A
// session already playing on the same player (machineIdentifier) is
// stopped first, as Plex does.
// Defaults: movie, user "owner" (id "1"), 1080p H.264/AAC, state playing,
// a random player id, a 192.168.1.x or 203.0.113.x address.
func (s *Server) AddSession(spec SessionSpec) SessionRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	spec = s.normaliseLocked(spec)
	// One player plays one thing: as Plex does when a playback starts with
	// a client identifier already playing (the next episode, a replay, or
	// two devices sharing one id), the earlier session is stopped; it
	// stays listed for Options.Linger.
	for _, old := range append([]*simSession(nil), s.sessions...) {
		if old.spec.Player.MachineID == spec.Player.MachineID {
			s.endSessionLocked(old)
		}
	}
	s.nextKey++
	s.nextPQ++
	ss := &simSession{
		key:       strconv.Itoa(s.nextKey),
		id:        s.randIDLocked(24),
		spec:      spec,
		offset:    spec.ViewOffsetMs,
		state:     spec.State,
		pqItem:    1000 + s.nextPQ,
		createdAt: s.now(),
	}
	if spec.Transcode != nil {
		ss.tc = s.newTranscodeLocked(*spec.Transcode, ss)
	}
	ss.spec.Transcode = nil // the live job is ss.tc
	if !spec.LiveTV {
		s.catalog[spec.RatingKey] = ss.spec
	}
	s.sessions = append(s.sessions, ss)
	if ss.tc != nil {
		s.emitTranscodeLocked(plex.EventTranscodeStart, ss)
	}
	s.emitPlayingLocked(ss, ss.state)
	return s.refLocked(ss)
}

func (s *Server) refLocked(ss *simSession) SessionRef {
	r := SessionRef{Key: ss.key, ID: ss.id}
	if ss.tc != nil {
		r.TranscodeKey = ss.tc.id
	}
	return r
}

// Ref returns the identifiers of a playing session.
func (s *Server) Ref(sessionKey string) (SessionRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.findLocked(sessionKey)
	if ss == nil {
		return SessionRef{}, ErrUnknownSession
	}
	return s.refLocked(ss), nil
}

func (s *Server) findLocked(key string) *simSession {
	for _, ss := range s.sessions {
		if ss.key == key {
			return ss
		}
	}
	return nil
}

func (s *Server) findByIDLocked(id string) *simSession {
	for _, ss := range s.sessions {
		if ss.id == id {
			return ss
		}
	}
	return nil
}

func (s *Server) findByTranscodeLocked(id string) *simSession {
	for _, ss := range s.sessions {
		if ss.tc != nil && ss.tc.id == id {
			return ss
		}
	}
	return nil
}

// SetState sets the player state (playing, paused or buffering) and emits
// a playing event.
func (s *Server) SetState(sessionKey, state string) error {
	switch state {
	case StatePlaying, StatePaused, StateBuffering:
	default:
		return fmt.Errorf("%w: %q", ErrBadState, state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.findLocked(sessionKey)
	if ss == nil {
		return ErrUnknownSession
	}
	ss.state = state
	s.emitPlayingLocked(ss, state)
	return nil
}

// SetBandwidth changes a session's Session.bandwidth (kbps) without any
// event, as a player's quality change shows on a real server: only the
// next /status/sessions tells.
func (s *Server) SetBandwidth(sessionKey string, kbps int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.findLocked(sessionKey)
	if ss == nil {
		return ErrUnknownSession
	}
	ss.spec.BandwidthKbps = kbps
	return nil
}

// Seek moves a session to offsetMs. Like Plex, a transcoding session gets a
// new transcoder job: transcodeSession.end, then transcodeSession.start
// under a new key, then playing.
func (s *Server) Seek(sessionKey string, offsetMs int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.findLocked(sessionKey)
	if ss == nil {
		return ErrUnknownSession
	}
	ss.offset = max(0, min(offsetMs, ss.spec.DurationMs-1))
	if ss.tc != nil {
		s.emitTranscodeLocked(plex.EventTranscodeEnd, ss)
		ss.tc = s.newTranscodeLocked(ss.tc.spec, ss)
		s.emitTranscodeLocked(plex.EventTranscodeStart, ss)
	}
	s.emitPlayingLocked(ss, ss.state)
	return nil
}

// StartTranscode puts a session on the transcoder (replacing any running
// job, which ends first) and returns the new bare transcode key. Events:
// [transcodeSession.end], transcodeSession.start, playing.
func (s *Server) StartTranscode(sessionKey string, t TranscodeSpec) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.findLocked(sessionKey)
	if ss == nil {
		return "", ErrUnknownSession
	}
	if ss.tc != nil {
		s.emitTranscodeLocked(plex.EventTranscodeEnd, ss)
	}
	ss.tc = s.newTranscodeLocked(t, ss)
	s.emitTranscodeLocked(plex.EventTranscodeStart, ss)
	s.emitPlayingLocked(ss, ss.state)
	return ss.tc.id, nil
}

// StopTranscodeOf ends a session's transcoder job (the session goes on
// without a TranscodeSession) and emits transcodeSession.end.
func (s *Server) StopTranscodeOf(sessionKey string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.findLocked(sessionKey)
	if ss == nil {
		return ErrUnknownSession
	}
	if ss.tc == nil {
		return ErrNoTranscode
	}
	s.stopTranscodeLocked(ss)
	return nil
}

func (s *Server) stopTranscodeLocked(ss *simSession) {
	s.emitTranscodeLocked(plex.EventTranscodeEnd, ss)
	ss.tc = nil
}

// EndSession ends a playback as a player stopping would: playing with
// state "stopped", then transcodeSession.end if it was transcoding. It works
// on zombies too.
func (s *Server) EndSession(sessionKey string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.findLocked(sessionKey)
	if ss == nil {
		return ErrUnknownSession
	}
	s.endSessionLocked(ss)
	return nil
}

// endSessionLocked ends a playback: it leaves the live sessions, stays
// listed (as it last was) for Options.Linger, and emits playing "stopped"
// then transcodeSession.end.
func (s *Server) endSessionLocked(ss *simSession) {
	for i, x := range s.sessions {
		if x == ss {
			s.sessions = append(s.sessions[:i:i], s.sessions[i+1:]...)
			break
		}
	}
	if s.opts.Linger > 0 {
		listed := *ss
		if ss.tc != nil {
			tc := *ss.tc
			listed.tc = &tc
		}
		s.leaving = append(s.leaving, leavingSession{ss: &listed, until: s.now().Add(s.opts.Linger)})
	}
	if !ss.spec.SilentStop {
		s.emitPlayingLocked(ss, StateStopped)
	}
	if ss.tc != nil {
		s.stopTranscodeLocked(ss)
	}
}

// listedLocked returns what /status/sessions shows: the live sessions and
// the stopped ones still lingering, in sessionKey order.
func (s *Server) listedLocked() []*simSession {
	now := s.now()
	kept := s.leaving[:0]
	for _, l := range s.leaving {
		if now.Before(l.until) {
			kept = append(kept, l)
		}
	}
	clear(s.leaving[len(kept):])
	s.leaving = kept
	if len(s.leaving) == 0 {
		return s.sessions
	}
	out := make([]*simSession, 0, len(s.sessions)+len(s.leaving))
	out = append(out, s.sessions...)
	for _, l := range s.leaving {
		out = append(out, l.ss)
	}
	slices.SortFunc(out, func(a, b *simSession) int { return cmp.Compare(keyNum(a.key), keyNum(b.key)) })
	return out
}

func keyNum(k string) int { n, _ := strconv.Atoi(k); return n }

// ReplaceSession ends a session and at once starts another on the same player, as
// a player does when it moves to the next episode or replays the item
// (after a kill message asking for Original quality): the old session is
// still listed (Options.Linger) while the new one plays. change edits the
// new session's spec (a copy of the old one, at its position, with no
// transcode unless change sets one).
func (s *Server) ReplaceSession(sessionKey string, change func(*SessionSpec)) (SessionRef, error) {
	s.mu.Lock()
	ss := s.findLocked(sessionKey)
	if ss == nil {
		s.mu.Unlock()
		return SessionRef{}, ErrUnknownSession
	}
	spec := ss.spec
	spec.ViewOffsetMs = ss.offset
	spec.State = StatePlaying
	spec.Transcode = nil
	s.endSessionLocked(ss)
	s.mu.Unlock()
	if change != nil {
		change(&spec)
	}
	return s.AddSession(spec), nil
}

// NextEpisode ends an episode's session and starts the next episode on the
// same player (new sessionKey and ratingKey, position 0), keeping its
// transcode, while the old one is still listed.
func (s *Server) NextEpisode(sessionKey string) (SessionRef, error) {
	s.mu.Lock()
	ss := s.findLocked(sessionKey)
	var tc *TranscodeSpec
	if ss != nil && ss.tc != nil {
		t := ss.tc.spec
		tc = &t
	}
	s.mu.Unlock()
	return s.ReplaceSession(sessionKey, func(sp *SessionSpec) {
		sp.Episode++
		sp.Title = fmt.Sprintf("Episode %d", sp.Episode)
		sp.RatingKey = ""
		sp.ViewOffsetMs = 0
		sp.Transcode = tc
	})
}

// Advance moves virtual time on by d: every playing session's viewOffset
// grows by d and it emits one playing timeline (plus transcodeSession.update
// if transcoding). A session that reaches its end stops as EndSession does.
// Paused and buffering sessions do not move.
func (s *Server) Advance(d time.Duration) {
	ms := d.Milliseconds()
	if ms <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range append([]*simSession(nil), s.sessions...) {
		if ss.state != StatePlaying {
			continue
		}
		ss.offset += ms
		if ss.offset >= ss.spec.DurationMs {
			ss.offset = ss.spec.DurationMs
			s.endSessionLocked(ss)
			continue
		}
		if ss.tc != nil {
			played := float64(ss.offset) / float64(ss.spec.DurationMs) * 100
			done := ss.tc.progress + float64(ms)/float64(ss.spec.DurationMs)*100*ss.tc.spec.Speed
			ss.tc.progress = math.Min(100, math.Max(done, played))
			s.emitTranscodeLocked(plex.EventTranscodeUpdate, ss)
		}
		s.emitPlayingLocked(ss, ss.state)
	}
}

// Sessions returns a copy of what /status/sessions shows, in sessionKey
// order: the sessions playing and those stopped but still listed.
func (s *Server) Sessions() []plex.Metadata {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.listedLocked()
	out := make([]plex.Metadata, 0, len(list))
	for _, ss := range list {
		out = append(out, s.metadataLocked(ss))
	}
	return out
}

// Playing returns the sessions playing now, in sessionKey order: what
// Sessions shows without those stopped but still listed.
func (s *Server) Playing() []plex.Metadata {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]plex.Metadata, 0, len(s.sessions))
	for _, ss := range s.sessions {
		out = append(out, s.metadataLocked(ss))
	}
	return out
}

// Item returns what /library/metadata/<ratingKey> shows: the library item
// of a session played here, with every version of its file.
func (s *Server) Item(ratingKey string) (plex.Metadata, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	spec, ok := s.catalog[ratingKey]
	if !ok {
		return plex.Metadata{}, false
	}
	return libraryItem(spec), true
}

// SessionCount returns the number of sessions playing (not those stopped
// but still listed).
func (s *Server) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// emitPlayingLocked emits a playing event (PlaySessionStateNotification).
func (s *Server) emitPlayingLocked(ss *simSession, state string) {
	ps := plex.PlayState{
		SessionKey:       plex.String(ss.key),
		ClientIdentifier: plex.String(ss.spec.Player.MachineID),
		RatingKey:        plex.String(ss.spec.RatingKey),
		Key:              itemKey(ss.spec),
		GUID:             "", // real servers send it empty in these events
		URL:              "",
		ViewOffset:       plex.Int(ss.offset),
		PlayQueueItemID:  plex.Int(ss.pqItem),
		State:            state,
	}
	if ss.tc != nil {
		ps.TranscodeSession = ss.tc.id
	}
	s.emitLocked(plex.EventPlaying, "PlaySessionStateNotification", ps)
}

// emitTranscodeLocked emits a transcodeSession.* event for the session's job.
func (s *Server) emitTranscodeLocked(name string, ss *simSession) {
	if ss.tc == nil {
		return
	}
	ts := s.transcodeSessionLocked(ss)
	if name == plex.EventTranscodeEnd {
		ts.Complete = ts.Progress >= 100
	}
	s.emitLocked(name, "TranscodeSession", ts)
}
