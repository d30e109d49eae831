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
// The server only ever listens on the address given to Start, and Close stops
// every goroutine it started.
package plexsim
