// Package diag finds two failure modes Plex itself does not show an admin:
// client-identifier collisions and transcode storms.
//
// A Detector is fed every app.Update of every monitor (Observe) and answers
// with Findings, each reported once per episode. It also keeps a short,
// bounded timeline per player id for the Diagnostics view (Players,
// Timeline), the findings still in force (Active) and the rule conditions
// Storming, StormingUser and Colliding. It imports nothing from Fyne and
// does no I/O.
//
// # Client-identifier collision
//
// Plex routes playback by the player's X-Plex-Client-Identifier
// (Player.machineIdentifier). When two players send the same one — a video
// player and a music player inside one app, or two scripts built on
// python-plexapi, whose default id is derived from the host's MAC address —
// Plex treats the second playback as a replacement and stops the first
// ("Client stopped playback" in the server log); the first player then
// fails with endless 404s on its segments (docs/plex-api.md §1.2). Two
// signs are detected:
//
//   - replaced: a session of player id X ends and, within CollisionWindow
//     (either order: the monitor may see the new session before the old one
//     is gone), another session of X starts that plays a different class of
//     media (video vs music) or reports a different product or device;
//   - shared: two live sessions carry the same player id but report
//     different products or devices.
//
// "Part" is deliberately not a sign on its own. A part is one file of a
// Media of an item; the next episode, the next track of an album, seek to
// the end (which can yield a new sessionKey), a "play version" switch and
// the next file of a stacked movie all start a new part — often a new
// session — on the same player within a second or two, and they are normal.
// A player cannot change what it is (its product or device) or switch from
// a film to an album in the instant between two sessions, so those are the
// signs. Media classes are coarse on purpose: a pre-roll or trailer (clip)
// followed by the film is video to video, and photos never count, because a
// slideshow with background music legitimately mixes a track and photos on
// one player. A session whose type, product or device is unknown ("")
// gives no sign for that field.
//
// # Transcode storm
//
// A misbehaving client can create transcoder jobs or sessions again and
// again while nothing useful plays (one real case: 495 new session
// identifiers in 4 minutes). A storm is more than StormTranscodes new
// transcode keys, or more than StormSessions new sessions, within
// StormWindow from one player id — or from one user across more than
// StormPlayers player ids, which catches a client that also rotates its
// identifier. It calms down
// when both counts in the window fall to half their thresholds or less;
// a later storm is a new episode and is reported again. See the Default
// constants for why the thresholds sit well above normal seeking.
//
// # Wiring
//
// One Detector serves every server:
//
//	det := diag.New(diag.Options{})
//	hub.OnUpdate(func(up app.Update) {
//		for _, f := range det.Observe(up) {
//			// notify f.Title() / f.Text(), record f in history, and
//			// print it as a `watch --json` line: json.Marshal(f)
//		}
//	})
//
// Rules ask Storming(s.Server, s.Player.MachineIdentifier),
// StormingUser(s.Server, s.User) or Colliding(…), and Flagged for the
// players and users those answer true for now (so that they need not ask
// about every session); the Diagnostics view
// shows Players, Timeline and Active.
package diag
