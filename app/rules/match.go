package rules

import (
	"cmp"
	"errors"
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

// evaluate returns the sessions c matches at now and the earliest later
// time at which the answer could change without any new update (a pause
// growing long enough, a time window opening); zero when none. The
// counting kinds do not count the sessions leaving reports (nil: none),
// e.g. those another rule is terminating in the same pass.
func (c *compiled) evaluate(sessions []app.Session, now time.Time, leaving func(i int) bool) (hits []hit, wake time.Time) {
	if c.sched != nil && !c.sched.active(now) {
		return nil, c.sched.nextStart(now)
	}
	if leaving == nil {
		leaving = func(int) bool { return false }
	}
	switch c.Kind {
	case KindUserStreams:
		return c.userStreams(sessions, leaving), time.Time{}
	case KindServerTranscodes:
		return c.serverTranscodes(sessions, leaving), time.Time{}
	}
	for i := range sessions {
		s := &sessions[i]
		if !c.applies(s) {
			continue
		}
		ok, w := c.matches(s, now)
		wake = earliest(wake, w)
		if ok {
			hits = append(hits, hit{rule: c, i: i})
		}
	}
	return hits, wake
}

// reasonOf is the reason of a hit in words.
func (c *compiled) reasonOf(h hit, s *app.Session, now time.Time) string {
	if h.reason != "" {
		return h.reason
	}
	return c.reason(s, now)
}

// applies reports whether s is in the rule's scope and not exempt.
// Pre-rolls, theme music and sessions on their way out (stopped,
// terminated or replaced, which Plex lists for a few seconds) are never
// touched nor counted.
func (c *compiled) applies(s *app.Session) bool {
	if s.Kind == plex.KindPreroll || s.Kind == plex.KindTheme || s.Leaving != "" {
		return false
	}
	sc, ex := &c.Scope, &c.Exempt
	if len(sc.Servers) > 0 && !containsFold(sc.Servers, s.Server) {
		return false
	}
	if len(sc.Users) > 0 && !userIn(sc.Users, s) {
		return false
	}
	if len(c.scopePl) > 0 && !playerIn(c.scopePl, &s.Player) {
		return false
	}
	if len(sc.Libraries) > 0 && !containsFold(sc.Libraries, s.Library) && !(s.LibrarySectionID != "" && slices.Contains(sc.Libraries, s.LibrarySectionID)) {
		return false
	}
	if len(sc.MediaTypes) > 0 && !slices.ContainsFunc(sc.MediaTypes, func(t string) bool { return mediaTypeIs(t, s) }) {
		return false
	}
	if userIn(ex.Users, s) || playerIn(c.exemptPl, &s.Player) || (ex.LAN && s.IsLAN()) {
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

// matches is the test of the per-session kinds; wake is when a session
// not matching yet will (a pause growing long enough).
func (c *compiled) matches(s *app.Session, now time.Time) (ok bool, wake time.Time) {
	switch c.Kind {
	case KindTranscode:
		return videoTranscode(s, c.CountSubtitleBurn) || (c.IncludeAudioOnly && s.AudioOnly), wake
	case KindSourceTranscode:
		if !videoTranscode(s, c.CountSubtitleBurn) {
			return false, wake
		}
		h := sourceHeight(s)
		resOK := c.minHeight > 0 && h >= c.minHeight
		codecOK := len(c.codecs) > 0 && c.codecs[plex.CodecName(s.SourceVideoCodec)]
		return (c.RequireBoth && resOK && codecOK) || (!c.RequireBoth && (resOK || codecOK)), wake
	case KindBandwidth:
		v := s.BandwidthKbps
		if c.UseSourceBitrate {
			v = s.BitrateKbps
		}
		return v > 0 && v > c.MaxKbps, wake
	case KindPaused:
		since := pausedSince(s)
		if since.IsZero() {
			return false, wake
		}
		due := since.Add(c.PausedFor.Std())
		if now.Before(due) {
			return false, due
		}
		return true, wake
	case KindRemote:
		if s.IsLAN() {
			return false, wake
		}
		a := s.Addr()
		return !(a.IsValid() && inAny(a, c.allow)), wake
	case KindAddress:
		a := s.Addr()
		if !a.IsValid() {
			return false, wake // no address: nothing to judge
		}
		return inAny(a, c.deny) || (len(c.allow) > 0 && !inAny(a, c.allow)), wake
	case KindPlayer:
		return playerIn(c.players, &s.Player), wake
	case KindTimeWindow:
		return true, wake
	case KindDiagnostic:
		if c.diag == nil {
			return false, wake
		}
		id := s.Player.MachineIdentifier
		if c.Condition == ConditionCollision {
			return id != "" && c.diag.Colliding(s.Server, id), wake
		}
		return (id != "" && c.diag.Storming(s.Server, id)) || c.diag.StormingUser(s.Server, s.User), wake
	}
	return false, wake
}

// reason says in words why a per-session kind matches s.
func (c *compiled) reason(s *app.Session, now time.Time) string {
	switch c.Kind {
	case KindTranscode:
		return transcodeReason(s)
	case KindSourceTranscode:
		return words.Join(s.SourceResolution, plex.CodecName(s.SourceVideoCodec))
	case KindBandwidth:
		if c.UseSourceBitrate {
			return fmt.Sprintf("bitrate %s, limit %s", mbps(s.BitrateKbps), mbps(c.MaxKbps))
		}
		return fmt.Sprintf("bandwidth %s, limit %s", mbps(s.BandwidthKbps), mbps(c.MaxKbps))
	case KindPaused:
		if since := pausedSince(s); !since.IsZero() && !now.Before(since) {
			return "paused for " + words.ShortDuration(now.Sub(since))
		}
		return "paused for more than " + words.ShortDuration(c.PausedFor.Std())
	case KindRemote:
		if a := s.Addr(); a.IsValid() {
			return "remote stream from " + a.String()
		}
		return "remote stream"
	case KindAddress:
		a := s.Addr()
		if !a.IsValid() {
			return "address " + s.Player.Address
		}
		if p, ok := firstIn(a, c.deny); ok {
			return fmt.Sprintf("address %s is in the denied network %s", a, p)
		}
		return fmt.Sprintf("address %s is not in an allowed network", a)
	case KindPlayer:
		return "player " + playerName(s.Player)
	case KindTimeWindow:
		return c.Schedule.String()
	case KindDiagnostic:
		if c.Condition == ConditionCollision {
			return "another player uses the same client identifier"
		}
		return "the player keeps restarting its stream (transcode storm)"
	case KindUserStreams:
		what := "streams"
		if c.CountIPs {
			what = "addresses"
		}
		return fmt.Sprintf("more than %d %s at once", c.MaxStreams, what)
	case KindServerTranscodes:
		return fmt.Sprintf("more than %d transcodes on %s", c.MaxTranscodes, s.Server)
	}
	return ""
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

// userStreams picks, per user, the sessions above the limit (newest or
// oldest first), counting sessions or distinct addresses over all servers.
// It counts first and only groups the users above the limit, so the usual
// update (nobody over) allocates next to nothing.
func (c *compiled) userStreams(sessions []app.Session, leaving func(int) bool) []hit {
	counts := map[userID]int{}
	var over []userID
	for i := range sessions {
		s := &sessions[i]
		if !c.applies(s) || leaving(i) {
			continue
		}
		u, ok := userOf(s)
		if !ok {
			continue // an unknown user cannot be counted safely
		}
		counts[u]++
		if counts[u] == c.MaxStreams+1 {
			over = append(over, u)
		}
	}
	// A unit is one session, or with CountIPs all sessions of one address
	// (sessions without an address share one unit: unknown must not
	// inflate the count).
	type unit struct {
		first time.Time
		seq   int64 // the lowest sessionKey: Plex numbers sessions in order
		key   string
		idx   []int
	}
	if len(over) == 0 {
		return nil
	}
	members := make(map[userID][]int, len(over))
	for _, u := range over {
		members[u] = nil
	}
	for i := range sessions {
		s := &sessions[i]
		u, ok := userOf(s)
		if _, isOver := members[u]; ok && isOver && c.applies(s) && !leaving(i) {
			members[u] = append(members[u], i)
		}
	}
	var hits []hit
	for _, u := range over {
		var units []*unit
		byKey := map[string]*unit{}
		for _, i := range members[u] {
			s := &sessions[i]
			k := s.Server + "/" + s.SessionKey + "/" + s.ID
			if c.CountIPs {
				k = s.Addr().String()
			}
			un, ok := byKey[k]
			if !ok {
				un = &unit{first: s.FirstSeen, seq: s.Seq(), key: k}
				byKey[k] = un
				units = append(units, un)
			}
			if s.FirstSeen.Before(un.first) {
				un.first = s.FirstSeen
			}
			un.seq = min(un.seq, s.Seq())
			un.idx = append(un.idx, i)
		}
		if len(units) <= c.MaxStreams {
			continue
		}
		slices.SortFunc(units, func(a, b *unit) int { return compareFirst(a.first, a.seq, a.key, b.first, b.seq, b.key, c.Pick) })
		what := "streams"
		if c.CountIPs {
			what = "addresses"
		}
		reason := fmt.Sprintf("%d %s at once, limit %d", len(units), what, c.MaxStreams)
		for _, un := range units[:len(units)-c.MaxStreams] {
			for _, i := range un.idx {
				hits = append(hits, hit{rule: c, i: i, reason: reason})
			}
		}
	}
	return hits
}

// serverTranscodes picks, per server, the transcodes above the limit.
func (c *compiled) serverTranscodes(sessions []app.Session, leaving func(int) bool) []hit {
	groups := map[string][]int{}
	var order []string
	for i := range sessions {
		s := &sessions[i]
		if !c.applies(s) || leaving(i) || !(videoTranscode(s, c.CountSubtitleBurn) || (c.IncludeAudioOnly && s.AudioOnly)) {
			continue
		}
		if _, ok := groups[s.Server]; !ok {
			order = append(order, s.Server)
		}
		groups[s.Server] = append(groups[s.Server], i)
	}
	var hits []hit
	for _, srv := range order {
		list := groups[srv]
		if len(list) <= c.MaxTranscodes {
			continue
		}
		slices.SortFunc(list, func(a, b int) int {
			x, y := &sessions[a], &sessions[b]
			if r := compareFirst(x.FirstSeen, x.Seq(), x.SessionKey, y.FirstSeen, y.Seq(), y.SessionKey, c.Pick); r != 0 {
				return r
			}
			return strings.Compare(x.ID, y.ID)
		})
		reason := fmt.Sprintf("%d transcodes on %s, limit %d", len(list), srv, c.MaxTranscodes)
		for _, i := range list[:len(list)-c.MaxTranscodes] {
			hits = append(hits, hit{rule: c, i: i, reason: reason})
		}
	}
	return hits
}

// compareFirst orders by start time, newest first (default) or oldest
// first; sessions first seen together (in one list) by their sessionKey,
// which Plex numbers in order; then by key so the order is stable.
func compareFirst(at time.Time, aseq int64, ak string, bt time.Time, bseq int64, bk string, pick string) int {
	c := at.Compare(bt)
	if c == 0 && aseq >= 0 && bseq >= 0 {
		c = cmp.Compare(aseq, bseq)
	}
	if c != 0 {
		if pick == PickOldest {
			return c
		}
		return -c
	}
	return strings.Compare(ak, bk)
}

// sessionReason is the reason r gives for s alone, for message previews:
// why it matches, or what the rule looks for.
func sessionReason(r Rule, s app.Session) string {
	c, err := compile(r)
	if err != nil {
		return ""
	}
	return c.reason(&s, time.Now())
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

// schedule is a parsed Schedule.
type schedule struct {
	days     [7]bool // by time.Weekday
	from, to int     // minutes after midnight; to may be 1440
}

var dayNames = map[string][]time.Weekday{
	"sun": {time.Sunday}, "mon": {time.Monday}, "tue": {time.Tuesday}, "wed": {time.Wednesday},
	"thu": {time.Thursday}, "fri": {time.Friday}, "sat": {time.Saturday},
	"weekdays": {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	"weekend":  {time.Saturday, time.Sunday},
}

func parseSchedule(s Schedule) (*schedule, error) {
	fail := func(field, format string, a ...any) error {
		return &FileError{Rule: -1, Field: "schedule." + field, Err: fmt.Errorf(format, a...)}
	}
	sc := &schedule{}
	var err error
	if sc.from, err = parseClock(s.From, false); err != nil {
		return nil, fail("from", "%v", err)
	}
	if sc.to, err = parseClock(s.To, true); err != nil {
		return nil, fail("to", "%v", err)
	}
	if sc.to == 1440 && sc.from == 0 {
		sc.to = 0 // 00:00–24:00 is the whole day
	}
	if len(s.Days) == 0 {
		for i := range sc.days {
			sc.days[i] = true
		}
	}
	for i, d := range s.Days {
		k := strings.ToLower(strings.TrimSpace(d))
		switch k {
		case "weekday", "weekdays":
			k = "weekdays"
		case "weekend", "weekends":
			k = "weekend"
		default:
			if len(k) > 3 {
				k = k[:3] // "monday" → "mon"
			}
		}
		wds, ok := dayNames[k]
		if !ok {
			return nil, fail(fmt.Sprintf("days[%d]", i), "%q is not a day; use mon, tue, wed, thu, fri, sat, sun, weekdays or weekend", d)
		}
		for _, wd := range wds {
			sc.days[wd] = true
		}
	}
	return sc, nil
}

// parseClock reads "HH:MM" (24-hour) into minutes after midnight; "24:00"
// only when end is true.
func parseClock(s string, end bool) (int, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && (mm != 0 || !end)) {
		if s == "" {
			return 0, errors.New("missing; use a 24-hour time like \"22:30\"")
		}
		return 0, fmt.Errorf("%q is not a time; use a 24-hour time like \"22:30\"", s)
	}
	return hh*60 + mm, nil
}

// active reports whether t (in its location) is inside the window.
func (sc *schedule) active(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	wd := t.Weekday()
	yesterday := (wd + 6) % 7
	switch {
	case sc.from == sc.to:
		return sc.days[wd]
	case sc.from < sc.to:
		return sc.days[wd] && m >= sc.from && m < sc.to
	}
	// Crosses midnight: the evening part belongs to today, the morning
	// part to yesterday's window.
	return (sc.days[wd] && m >= sc.from) || (sc.days[yesterday] && m < sc.to)
}

// nextStart returns when the window next opens after t; zero if never.
func (sc *schedule) nextStart(t time.Time) time.Time {
	y, mo, d := t.Date()
	for k := 0; k <= 7; k++ {
		start := time.Date(y, mo, d+k, sc.from/60, sc.from%60, 0, 0, t.Location())
		if sc.from == sc.to {
			start = time.Date(y, mo, d+k, 0, 0, 0, 0, t.Location())
		}
		if start.After(t) && sc.days[start.Weekday()] {
			return start
		}
	}
	return time.Time{}
}

// String returns the window in words, e.g. "Mon, Fri 22:00–06:00".
func (s *Schedule) String() string {
	if s == nil {
		return "always"
	}
	w := s.From + "–" + s.To
	if s.From == s.To {
		w = "all day"
	}
	if len(s.Days) == 0 {
		return w
	}
	return strings.Join(s.Days, ", ") + " " + w
}
