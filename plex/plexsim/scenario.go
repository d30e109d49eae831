package plexsim

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

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

// age is how long the session of sessionKey has been playing (by the
// server's clock), 0 for one not listed.
func (s *Server) age(sessionKey string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		if ss.key == sessionKey {
			return s.now().Sub(ss.createdAt)
		}
	}
	return 0
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
