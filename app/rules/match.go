package rules

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/internal/words"
	"github.com/plexwarden/plexwarden/plex"
)

// hit is one session a rule matches now: the index of the session in the
// evaluated list and, for the counting kinds, the reason (the others give
// theirs only when asked, so the steady state allocates little).
type hit struct {
	rule   *compiled
	i      int
	reason string
}

// inSchedule reports whether c is in force at now: it has no schedule, or
// now is inside it.
func (c *compiled) inSchedule(now time.Time) bool { return c.sched == nil || c.sched.active(now) }

// evaluate returns the sessions c matches at now and the earliest later
// time at which the answer could change without any new update (a pause
// growing long enough, a time window opening); zero when none. The
// counting kinds do not count the sessions leaving reports (nil: none),
// e.g. those another rule is terminating in the same pass.
func (c *compiled) evaluate(sessions []app.Session, now time.Time, leaving func(i int) bool) (hits []hit, wake time.Time) {
	if !c.inSchedule(now) {
		return nil, c.sched.nextStart(now)
	}
	if leaving == nil {
		leaving = func(int) bool { return false }
	}
	if c.spec.count != nil {
		hits = c.spec.count(c, sessions, leaving)
	} else {
		for i := range sessions {
			s := &sessions[i]
			if !c.applies(s) {
				continue
			}
			ok, w := c.match(s, now)
			wake = earliest(wake, w)
			if ok {
				hits = append(hits, hit{rule: c, i: i})
			}
		}
	}
	if c.Action == ActionTerminateUser && len(hits) > 0 {
		hits = c.userStreamsOf(sessions, hits, now, leaving)
	}
	return hits, wake
}

// match tests one session in scope with the kind's test (per-session
// kinds). A transcode whose source is still being read does not match a
// rule that judges the source yet: the monitor publishes it again once
// the source is known (Session.SourcePending).
func (c *compiled) match(s *app.Session, now time.Time) (bool, time.Time) {
	if s.SourcePending && c.spec.source != nil && c.spec.source(c, s) {
		return false, time.Time{}
	}
	return c.spec.match(c, s, now)
}

// userStreamsOf adds to hits every other stream of the users they play
// for, on every server, whatever the rule's scope but never one it
// exempts (terminateUser). Their reason names the stream that matched.
func (c *compiled) userStreamsOf(sessions []app.Session, hits []hit, now time.Time, leaving func(int) bool) []hit {
	in := make(map[int]bool, len(hits))
	for _, h := range hits {
		in[h.i] = true
	}
	n := len(hits)
	for _, h := range hits[:n] {
		u, ok := userOf(&sessions[h.i])
		if !ok {
			continue // an unknown user: only the stream that matched
		}
		why := ""
		for i := range sessions {
			s := &sessions[i]
			if in[i] || !touchable(s) || leaving(i) || c.exempted(s) {
				continue
			}
			if v, ok := userOf(s); !ok || v != u {
				continue
			}
			if why == "" {
				m := &sessions[h.i]
				why = fmt.Sprintf("all of %s's streams: %s on %s", m.User, c.reasonOf(h, m, now), m.Title)
			}
			in[i] = true
			hits = append(hits, hit{rule: c, i: i, reason: why})
		}
	}
	return hits
}

// reasonOf is the reason of a hit in words.
func (c *compiled) reasonOf(h hit, s *app.Session, now time.Time) string {
	if h.reason != "" {
		return h.reason
	}
	return c.spec.reason(c, s, now)
}

// applies reports whether s is in the rule's scope and not exempt.
// Pre-rolls, theme music and sessions on their way out (stopped,
// terminated or replaced, which Plex lists for a few seconds) are never
// touched nor counted.
func (c *compiled) applies(s *app.Session) bool {
	if !touchable(s) {
		return false
	}
	sc := &c.Scope
	if len(sc.Servers) > 0 && !containsFold(sc.Servers, s.Server) {
		return false
	}
	if len(sc.Users) > 0 && !userIn(sc.Users, s) {
		return false
	}
	// Players are picked by patterns and/or by exact machineIdentifier:
	// a player either list names is in scope.
	if (len(c.scopePl) > 0 || len(sc.Devices) > 0) && !playerIn(c.scopePl, &s.Player) && !deviceIn(sc.Devices, &s.Player) {
		return false
	}
	if len(sc.Libraries) > 0 && !containsFold(sc.Libraries, s.Library) && !(s.LibrarySectionID != "" && slices.Contains(sc.Libraries, s.LibrarySectionID)) {
		return false
	}
	if len(sc.MediaTypes) > 0 && !slices.ContainsFunc(sc.MediaTypes, func(t string) bool { return mediaTypeIs(t, s) }) {
		return false
	}
	if c.exempted(s) {
		return false
	}
	if c.OnlyTranscodes && !s.Transcoding() {
		return false
	}
	if c.OnlyRemote && s.IsLAN() {
		return false
	}
	return true
}

// touchable reports a session a rule may touch at all: not a pre-roll or
// theme music, not on its way out.
func touchable(s *app.Session) bool {
	return s.Kind != plex.KindPreroll && s.Kind != plex.KindTheme && s.Leaving == ""
}

// exempted reports a session the rule never touches.
func (c *compiled) exempted(s *app.Session) bool {
	ex := &c.Exempt
	return userIn(ex.Users, s) || playerIn(c.exemptPl, &s.Player) || deviceIn(ex.Devices, &s.Player) || (ex.LAN && s.IsLAN())
}

// deviceIn reports a player whose machineIdentifier is in ids (exactly).
func deviceIn(ids []string, p *app.Player) bool {
	return p.MachineIdentifier != "" && slices.ContainsFunc(ids, func(id string) bool { return strings.TrimSpace(id) == p.MachineIdentifier })
}

func pausedSince(s *app.Session) time.Time {
	if s.State != "paused" {
		return time.Time{}
	}
	if !s.StateSince.IsZero() {
		return s.StateSince
	}
	return s.FirstSeen
}

// sessionReason is the reason r gives for s alone, for message previews:
// why it matches, or what the rule looks for.
func sessionReason(r Rule, s app.Session) string {
	c, err := compile(r)
	if err != nil {
		return ""
	}
	return c.spec.reason(c, &s, time.Now())
}

// videoTranscode reports a video transcode; one that only burns subtitles
// in counts only with countBurn.
func videoTranscode(s *app.Session, countBurn bool) bool {
	return s.VideoTranscode && (countBurn || !burnOnly(s))
}

// burnOnly reports a transcode whose only video work is burning subtitles
// in: subtitles burned and the video not otherwise converted, or converted
// without changing its resolution. (Plex does not say why it transcodes;
// a picture kept at its resolution is the best sign the subtitles were the
// cause.)
func burnOnly(s *app.Session) bool {
	if !s.SubtitleBurn {
		return false
	}
	if s.VideoDecision != "transcode" {
		return true
	}
	return s.TargetResolution == "" || s.SourceResolution == "" || s.TargetResolution == s.SourceResolution
}

func transcodeReason(s *app.Session) string {
	switch {
	case s.VideoTranscode && burnOnly(s):
		return "subtitles burned into the video"
	case s.VideoTranscode:
		src := words.Join(plex.CodecName(s.SourceVideoCodec), s.SourceResolution)
		dst := words.Join(plex.CodecName(s.TargetVideoCodec), s.TargetResolution)
		if src == "" || dst == "" {
			return "video transcode"
		}
		return "video " + src + " to " + dst
	case s.AudioOnly:
		if a := plex.CodecName(s.SourceAudioCodec); a != "" {
			return "audio transcode from " + a
		}
		return "audio transcode"
	}
	return "transcode"
}

func sourceHeight(s *app.Session) int {
	if h := plex.ResolutionHeight(s.SourceResolution); h > 0 {
		return h
	}
	return plex.ResolutionHeight(plex.ResolutionLabel("", s.SourceHeight))
}

func inAny(a netip.Addr, nets []netip.Prefix) bool {
	_, ok := firstIn(a, nets)
	return ok
}

func firstIn(a netip.Addr, nets []netip.Prefix) (netip.Prefix, bool) {
	for _, p := range nets {
		if p.Contains(a) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// userID identifies a user across servers: the Plex account id, else the
// name (lower case).
type userID struct{ id, name string }

func userOf(s *app.Session) (userID, bool) {
	if s.UserID != "" {
		return userID{id: s.UserID}, true
	}
	if s.User != "" && s.User != "(unknown user)" {
		return userID{name: strings.ToLower(s.User)}, true
	}
	return userID{}, false
}

func userIn(list []string, s *app.Session) bool {
	for _, u := range list {
		u = strings.TrimSpace(u)
		if u != "" && (strings.EqualFold(u, s.User) || (s.UserID != "" && u == s.UserID)) {
			return true
		}
	}
	return false
}

func playerIn(patterns []string, p *app.Player) bool {
	return slices.ContainsFunc(patterns, func(pat string) bool { return matchPlayer(pat, p) })
}

func containsFold(list []string, v string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(strings.TrimSpace(x), v) })
}

func mediaTypeIs(t string, s *app.Session) bool {
	switch t = strings.ToLower(t); t {
	case "livetv":
		return s.Kind == plex.KindLiveTV
	case "video":
		return s.Type == "movie" || s.Type == "episode" || s.Type == "clip"
	case "music":
		return s.Type == "track"
	}
	return t == s.Type
}

func playerName(p app.Player) string {
	name := strings.TrimSpace(p.Product)
	if p.Platform != "" && !strings.EqualFold(p.Platform, p.Product) {
		name = words.Join(name, "("+p.Platform+")")
	}
	if name == "" {
		return p.Title
	}
	return name
}

func mbps(kbps int64) string {
	if kbps >= 1000 {
		return strconv.FormatFloat(float64(kbps)/1000, 'f', 1, 64) + " Mbps"
	}
	return strconv.FormatInt(kbps, 10) + " kbps"
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}
