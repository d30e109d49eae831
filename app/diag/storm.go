package diag

import (
	"fmt"
	"slices"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

// counter counts new sessions and transcoder jobs of a player or a user
// within the storm window.
type counter struct {
	sessions   []time.Time    // oldest first
	transcodes []time.Time    // oldest first
	recent     []EvidenceItem // the latest counted events
	players    map[string]time.Time
	storm      *episode
	lastActive time.Time
}

// firstSighting reports whether neither identifier (kind a value a, kind b
// value b) was counted within the storm window, and marks both as counted.
// Empty values are skipped.
func (d *Detector) firstSighting(server, ka, a, kb, b string, now time.Time) bool {
	d.pruneSeen(now)
	fresh := true
	for _, kv := range [...][2]string{{ka, a}, {kb, b}} {
		if kv[1] == "" {
			continue
		}
		key := server + "\x00" + kv[0] + "\x00" + kv[1]
		if _, ok := d.seen[key]; ok {
			fresh = false
		}
		d.seen[key] = now
		d.seenQueue = append(d.seenQueue, seenAt{key, now})
	}
	return fresh && (a != "" || b != "")
}

func (d *Detector) pruneSeen(now time.Time) {
	cut := now.Add(-d.opts.StormWindow)
	n := 0
	for n < len(d.seenQueue) && (d.seenQueue[n].t.Before(cut) || len(d.seenQueue)-n > maxSeen) {
		e := d.seenQueue[n]
		if t, ok := d.seen[e.key]; ok && t.Equal(e.t) {
			delete(d.seen, e.key)
		}
		n++
	}
	if n > 0 {
		d.seenQueue = slices.Delete(d.seenQueue, 0, n)
	}
}

// count adds one new session or transcode to the player's and the user's
// counters.
func (d *Detector) count(p *player, u pkey, role string, s app.Session, now time.Time) {
	ev := evidence(role, s, now)
	if p != nil {
		p.cnt.add(role, ev, now)
	}
	if u.id != "" {
		c := d.users[u]
		if c == nil {
			if len(d.users) >= d.opts.MaxPlayers {
				d.evictUser()
			}
			c = &counter{players: map[string]time.Time{}}
			d.users[u] = c
		}
		c.add(role, ev, now)
		if id := s.Player.MachineIdentifier; id != "" {
			if _, ok := c.players[id]; !ok && len(c.players) >= maxUserPlayers {
				c.prunePlayers(time.Time{}, true)
			}
			c.players[id] = now
		}
	}
}

func (c *counter) add(role string, ev EvidenceItem, now time.Time) {
	c.lastActive = now
	if role == RoleSession {
		c.sessions = appendCapped(c.sessions, now)
	} else {
		c.transcodes = appendCapped(c.transcodes, now)
	}
	c.recent = append(c.recent, ev)
	if len(c.recent) > maxStormEvidence {
		c.recent = slices.Delete(c.recent, 0, len(c.recent)-maxStormEvidence)
	}
}

func appendCapped(ts []time.Time, t time.Time) []time.Time {
	if len(ts) >= maxCounted {
		ts = slices.Delete(ts, 0, len(ts)-maxCounted+1)
	}
	return append(ts, t)
}

// prune forgets counted events older than cut.
func (c *counter) prune(cut time.Time) {
	c.sessions = pruneTimes(c.sessions, cut)
	c.transcodes = pruneTimes(c.transcodes, cut)
	c.prunePlayers(cut, false)
}

// prunePlayers forgets player ids last seen before cut, or with oldest the
// least recent one.
func (c *counter) prunePlayers(cut time.Time, oldest bool) {
	var oldID string
	var oldT time.Time
	for id, t := range c.players {
		if t.Before(cut) {
			delete(c.players, id)
		} else if oldest && (oldID == "" || t.Before(oldT)) {
			oldID, oldT = id, t
		}
	}
	if oldest && oldID != "" {
		delete(c.players, oldID)
	}
}

// pruneTimes drops the leading times before cut. A scan, not a binary
// search: after the clock is set back the times are out of order, and a
// second prune at the same cut must then drop nothing more (so that
// asking twice, as Flagged and then Storming do, answers the same).
func pruneTimes(ts []time.Time, cut time.Time) []time.Time {
	n := 0
	for n < len(ts) && ts[n].Before(cut) {
		n++
	}
	if n == 0 {
		return ts
	}
	return slices.Delete(ts, 0, n)
}

// counts returns the counter's numbers in the window ending now.
func (c *counter) counts(now time.Time, window time.Duration) Counts {
	c.prune(now.Add(-window))
	return Counts{Sessions: len(c.sessions), Transcodes: len(c.transcodes), Players: len(c.players), Window: window}
}

// timeline merges the counted events in the window, the latest
// maxStormTimeline of them.
func (c *counter) timeline() []time.Time {
	out := make([]time.Time, 0, len(c.sessions)+len(c.transcodes))
	out = append(append(out, c.sessions...), c.transcodes...)
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	if len(out) > maxStormTimeline {
		out = out[len(out)-maxStormTimeline:]
	}
	return out
}

func (d *Detector) over(c Counts) bool {
	return c.Sessions > d.opts.StormSessions || c.Transcodes > d.opts.StormTranscodes
}

func (d *Detector) calm(c Counts) bool {
	return c.Sessions <= d.opts.StormSessions/2 && c.Transcodes <= d.opts.StormTranscodes/2
}

// refreshStorm ends the counter's storm episode once it has calmed down
// and brings its numbers up to date; it reports whether a storm is still
// in force.
func (d *Detector) refreshStorm(c *counter, now time.Time) (Counts, bool) {
	n := c.counts(now, d.opts.StormWindow)
	if c.storm == nil {
		return n, false
	}
	if d.calm(n) {
		c.storm = nil
		return n, false
	}
	return n, true
}

// playerStorm is refreshStorm for a player, noting the calm in its
// timeline.
func (d *Detector) playerStorm(p *player, now time.Time) (Counts, bool) {
	was := p.cnt.storm != nil
	n, on := d.refreshStorm(&p.cnt, now)
	if was && !on {
		p.add(d.opts, TimelineEntry{Time: now, Event: EntryCalm, Note: "storm calmed down"})
	}
	return n, on
}

func (d *Detector) checkPlayerStorm(p *player, now time.Time) (Finding, bool) {
	n, storming := d.playerStorm(p, now)
	if storming || !d.over(n) {
		return Finding{}, false
	}
	n.Players = 0
	who := "player " + p.name()
	if p.user != "" {
		who += " of " + p.user
	}
	f := Finding{
		ID:   fmt.Sprintf("storm/%s/%s/%d", p.key.server, p.key.id, now.UnixNano()),
		Kind: KindStorm, Cause: CausePlayer, Server: p.key.server, PlayerID: p.key.id, User: p.user, Time: now,
		Summary:  stormSummary(CausePlayer, who, n),
		Evidence: append([]EvidenceItem(nil), p.cnt.recent...),
		Remedy:   stormRemedy, Counts: n, Timeline: p.cnt.timeline(),
	}
	p.cnt.storm = &episode{f: f, last: now}
	d.stormP[p.key] = struct{}{}
	p.add(d.opts, TimelineEntry{Time: now, Event: EntryStorm, User: p.user, Note: f.Summary})
	return f.clone(), true
}

// name is how a summary names the player: "Plex for Roku on Living Room
// (id abc…)".
func (p *player) name() string {
	prod := ""
	if len(p.products) > 0 {
		prod = p.products[len(p.products)-1]
	}
	n := playerName(app.Player{Product: prod, Title: p.title})
	if n == "" {
		return shortID(p.key.id)
	}
	return n + " (id " + shortID(p.key.id) + ")"
}

// checkUserStorm raises a user storm when the user's counts pass the
// thresholds over more than StormPlayers player ids — unless one of the
// user's players is already storming on its own: then the user's episode
// starts silently (not returned, not in Active), so the same storm is not
// reported twice, and is still in force for StormingUser.
func (d *Detector) checkUserStorm(u pkey, now time.Time) (Finding, bool) {
	c := d.users[u]
	if c == nil {
		return Finding{}, false
	}
	n, storming := d.refreshStorm(c, now)
	if storming || !d.over(n) || n.Players <= d.opts.StormPlayers {
		return Finding{}, false
	}
	f := Finding{
		ID:   fmt.Sprintf("storm/%s/user:%s/%d", u.server, u.id, now.UnixNano()),
		Kind: KindStorm, Cause: CauseUser, Server: u.server, User: u.id, Time: now,
		Summary:  stormSummary(CauseUser, "user "+u.id, n),
		Evidence: append([]EvidenceItem(nil), c.recent...),
		Remedy:   userStormRemedy, Counts: n, Timeline: c.timeline(),
	}
	c.storm = &episode{f: f, last: now}
	d.stormU[u] = struct{}{}
	if d.playerStormOf(u, now) {
		c.storm.silent = true
		return Finding{}, false
	}
	return f.clone(), true
}

// playerStormOf reports whether a player of user u is storming.
func (d *Detector) playerStormOf(u pkey, now time.Time) bool {
	for k, p := range d.players {
		if k.server == u.server && p.user == u.id && p.cnt.storm != nil {
			if _, on := d.playerStorm(p, now); on {
				return true
			}
		}
	}
	return false
}

func (d *Detector) activeStorm(c *counter, now time.Time) (Finding, bool) {
	if c.storm == nil || c.storm.silent {
		return Finding{}, false
	}
	n, on := d.refreshStorm(c, now)
	if !on {
		return Finding{}, false
	}
	f := c.storm.f.clone()
	f.Counts = n
	f.Timeline = c.timeline()
	return f, true
}

// Storming reports whether the player id playerID of server is in a storm
// now: the rule condition behind "stop all transcodes of a storming
// player".
func (d *Detector) Storming(server, playerID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.opts.Clock()
	p := d.players[pkey{server, playerID}]
	if p == nil {
		return false
	}
	_, on := d.playerStorm(p, now)
	return on
}

// StormingUser reports whether user (Session.User) of server is in a
// storm now, on their own counter or through one of their players.
func (d *Detector) StormingUser(server, user string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.opts.Clock()
	u := pkey{server, user}
	if c := d.users[u]; c != nil {
		if _, on := d.refreshStorm(c, now); on {
			return true
		}
	}
	return d.playerStormOf(u, now)
}
