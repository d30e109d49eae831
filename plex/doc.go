// Package plex talks to Plex Media Server: the HTTP client, the live SSE
// feed, tolerant models that read both JSON and XML answers, and the
// classification of sessions into direct play, direct stream and transcode.
//
// It imports nothing from Fyne. The simulated server used by tests and the
// demo lives in the plexsim subpackage.
package plex
