// Package plexsim is a simulated Plex Media Server: a real HTTP server that
// speaks the Plex wire formats Plex Warden uses (docs/plex-api.md sections
// 3–6), for tests, `plexwarden demo` and `plexwarden simulate`.
//
// It answers /identity, GET /, /status/sessions (JSON or XML by Accept),
// /transcode/sessions, terminate, the two ways of stopping a transcode and
// the SSE event stream /:/eventsource/notifications, serialising with the
// models of package plex so the real client reads exactly what it would
// read from a server.
//
// Tests drive it through a scenario API (AddSession, SetState, Seek,
// StartTranscode, EndSession, Advance …); every change emits the events a
// real server would. Fault injection (FailNext, FailAll, SetDelay, Stall,
// DropStreams, SendRaw, Restart) exercises the client's error paths. Every
// terminate and stop-transcode call and every request is logged so tests can
// assert what the client did, including token hygiene (a token sent in the
// query string is accepted, as Plex does, but flagged).
//
// It answers as published real servers do (plex/testdata/real; the
// fidelity tests check its shapes against them), where that decides what a
// rule does: a transcoding session is listed as the transcoder's output
// (codec, resolution, bitrate), with the version's Media id and the source
// named only in the streams' displayTitle and TranscodeSession.source*;
// /library/metadata/<ratingKey> lists every version of the file as stored;
// a stopped or terminated session stays listed for Options.Linger (3 s by
// default); a playback that starts on a player already playing stops the
// earlier session (NextEpisode, ReplaceSession, two devices sharing one
// id); sessions may lack Session.location and Player.local (NoLocation) or
// a Session id (NoSessionID), and a player may never report its stop
// (SilentStop).
//
// The server only ever listens on the address given to Start, and Close stops
// every goroutine it started.
package plexsim
