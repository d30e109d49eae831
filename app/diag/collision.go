package diag

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

// pruneStamped drops what happened before cut.
func pruneStamped(list []stamped, cut time.Time) []stamped {
	return slices.DeleteFunc(list, func(x stamped) bool { return x.t.Before(cut) })
}

// replaced checks an ended and a started session of one player id for a
// replacement (see the package comment).
func (d *Detector) replaced(p *player, ended, started stamped, now time.Time) (Finding, bool) {
	e, s := ended.s, started.s
	gap := started.t.Sub(ended.t)
	if gap > d.opts.CollisionWindow || -gap > d.opts.CollisionWindow {
		return Finding{}, false
	}
	if e.Key() == s.Key() || (e.ID != "" && e.ID == s.ID) {
		return Finding{}, false
	}
	if !differ(e, s) {
		return Finding{}, false
	}
	ev := []EvidenceItem{evidence(RoleEnded, e, ended.t), evidence(RoleStarted, s, started.t)}
	times := []time.Time{ended.t, started.t}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	return d.collision(p, CauseReplaced, e, s, gap, ev, times, now)
}

// seenAtOr is when the monitor first saw s, or now if it does not say.
func seenAtOr(s app.Session, now time.Time) time.Time {
	if s.FirstSeen.IsZero() {
		return now
	}
	return s.FirstSeen
}

// differ reports a sign that two sessions of one player id come from two
// players: a different class of media, product or device.
func differ(a, b app.Session) bool {
	ca, cb := mediaClass(a.Type), mediaClass(b.Type)
	if ca != "" && cb != "" && ca != cb {
		return true
	}
	return differs(a.Player.Product, b.Player.Product) || differs(a.Player.Device, b.Player.Device)
}

// differs compares two names that are both known.
func differs(a, b string) bool { return a != "" && b != "" && !strings.EqualFold(a, b) }

// mediaClass is "video" or "audio"; "" for photos (a slideshow may play
// with music on the same player) and for anything unknown.
func mediaClass(typ string) string {
	switch strings.ToLower(typ) {
	case "movie", "episode", "clip", "trailer", "video":
		return "video"
	case "track", "audio", "music":
		return "audio"
	}
	return ""
}

// collision adds a collision to the player's episode, opening one (and
// returning its finding) when none is in force. Pairs already in the
// episode only extend it.
func (d *Detector) collision(p *player, cause string, a, b app.Session, gap time.Duration, ev []EvidenceItem, times []time.Time, now time.Time) (Finding, bool) {
	pair := a.Key() + "\x00" + b.Key()
	if b.Key() < a.Key() {
		pair = b.Key() + "\x00" + a.Key()
	}
	if ep := p.collision; ep != nil && now.Sub(ep.last) <= d.opts.Hold {
		ep.last = now
		if ep.pairs[pair] {
			return Finding{}, false
		}
		ep.pairs[pair] = true
		if len(ep.pairs) > 4*maxCollisionEvidence {
			clear(ep.pairs) // bounded; a pair seen again just counts again
			ep.pairs[pair] = true
		}
		ep.f.Counts.Collisions++
		if len(ep.f.Evidence)+len(ev) <= maxCollisionEvidence {
			ep.f.Evidence = append(ep.f.Evidence, ev...)
			ep.f.Timeline = append(ep.f.Timeline, times...)
		}
		p.add(d.opts, TimelineEntry{Time: now, Event: EntryCollision, SessionKey: b.SessionKey, Title: b.Title,
			Type: b.Type, Product: b.Player.Product, Device: b.Player.Device, User: b.User,
			Note: "again: " + collisionSummary(cause, a, b, gap)})
		return Finding{}, false
	}
	user := b.User
	if a.User != b.User && a.User != "" {
		user = a.User + ", " + b.User
	}
	f := Finding{
		ID:   fmt.Sprintf("collision/%s/%s/%d", p.key.server, p.key.id, now.UnixNano()),
		Kind: KindCollision, Cause: cause, Server: p.key.server, PlayerID: p.key.id, User: user, Time: now,
		Summary: collisionSummary(cause, a, b, gap), Evidence: ev, Remedy: collisionRemedy,
		Counts: Counts{Collisions: 1}, Timeline: times,
	}
	p.collision = &episode{f: f, last: now, pairs: map[string]bool{pair: true}}
	d.collideP[p.key] = struct{}{}
	p.add(d.opts, TimelineEntry{Time: now, Event: EntryCollision, SessionKey: b.SessionKey, Title: b.Title,
		Type: b.Type, Product: b.Player.Product, Device: b.Player.Device, User: b.User, Note: f.Summary})
	return f.clone(), true
}

// Colliding reports whether a collision episode of player id playerID of
// server is in force (its last evidence is less than Hold old): the rule
// condition for a player whose identifier is shared.
func (d *Detector) Colliding(server, playerID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.opts.Clock()
	p := d.players[pkey{server, playerID}]
	return p != nil && p.collision != nil && now.Sub(p.collision.last) <= d.opts.Hold
}
