package plex

// MergeDuplicates returns items with every session listed once. Plex
// lists each playback once; an answer that repeats a sessionKey, or a
// Session id, under two entries (a server bug, a proxy stitching answers,
// or a hostile server) would otherwise make two rows and two rule
// decisions about one playback. The first entry stays in its place and
// takes from a later duplicate only what it lacks (user, player, Session,
// TranscodeSession, Media). Entries without a sessionKey or Session id are
// kept as they are. items is not modified.
func MergeDuplicates(items []Metadata) []Metadata {
	byKey := make(map[string]int, len(items))
	byID := make(map[string]int, len(items))
	out := make([]Metadata, 0, len(items))
	for _, m := range items {
		key, id := string(m.SessionKey), ""
		if m.Session != nil {
			id = string(m.Session.ID)
		}
		at, dup := -1, false
		if key != "" {
			at, dup = byKey[key]
		}
		if !dup && id != "" {
			at, dup = byID[id]
		}
		if dup {
			fillFrom(&out[at], &m)
			at = -1
		} else {
			at = len(out)
			out = append(out, m)
		}
		if at >= 0 {
			if key != "" {
				byKey[key] = at
			}
			if id != "" {
				byID[id] = at
			}
		}
	}
	return out
}

// fillFrom gives dst what it lacks and src has.
func fillFrom(dst, src *Metadata) {
	if dst.User == nil {
		dst.User = src.User
	}
	if dst.Player == nil {
		dst.Player = src.Player
	}
	if dst.Session == nil {
		dst.Session = src.Session
	}
	if dst.TranscodeSession == nil {
		dst.TranscodeSession = src.TranscodeSession
	}
	if len(dst.Media) == 0 {
		dst.Media = src.Media
	}
	if dst.Title == "" {
		dst.Title = src.Title
	}
}
