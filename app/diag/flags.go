package diag

// FlagKey names a player id (ID: Player.MachineIdentifier) or a user (ID:
// Session.User) of a server.
type FlagKey struct{ Server, ID string }

// Flags are the players and users the rule conditions hold for at one
// moment: exactly those for which Storming, StormingUser and Colliding
// answer true then.
type Flags struct {
	Storming      map[FlagKey]bool // player ids: Storming
	StormingUsers map[FlagKey]bool // users: StormingUser
	Colliding     map[FlagKey]bool // player ids: Colliding
}

// Flagged returns the players and users Storming, StormingUser and
// Colliding answer true for now, so that a caller can ask about those only
// instead of about every live session (the rules engine's incremental
// pass). Its cost grows with the storms and collisions open, not with the
// players: the detector keeps them as episodes begin, and drops them as
// they close. A player or user it leaves out answers false until the next
// Observe (a storm or collision begins only there), or until the clock is
// set back (a collision past Hold is in force again).
func (d *Detector) Flagged() Flags {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.opts.Clock()
	var f Flags
	set := func(m *map[FlagKey]bool, k FlagKey) {
		if *m == nil {
			*m = map[FlagKey]bool{}
		}
		(*m)[k] = true
	}
	for k := range d.stormP {
		p := d.players[k]
		if p == nil || p.cnt.storm == nil {
			delete(d.stormP, k)
			continue
		}
		if _, on := d.playerStorm(p, now); !on {
			delete(d.stormP, k)
			continue
		}
		set(&f.Storming, FlagKey{k.server, k.id})
		// StormingUser: a user whose player storms (playerStormOf).
		set(&f.StormingUsers, FlagKey{k.server, p.user})
	}
	for k := range d.stormU {
		c := d.users[k]
		if c == nil || c.storm == nil {
			delete(d.stormU, k)
			continue
		}
		if _, on := d.refreshStorm(c, now); !on {
			delete(d.stormU, k)
			continue
		}
		set(&f.StormingUsers, FlagKey{k.server, k.id})
	}
	for k := range d.collideP {
		p := d.players[k]
		if p == nil || p.collision == nil {
			delete(d.collideP, k)
			continue
		}
		if now.Sub(p.collision.last) <= d.opts.Hold {
			set(&f.Colliding, FlagKey{k.server, k.id})
		}
	}
	return f
}
