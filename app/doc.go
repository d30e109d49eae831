// Package app is Plex Warden's domain core: the per-server monitor that turns
// the event feed and /status/sessions into immutable snapshots, actions
// (terminate, stop transcode), configuration and the command line. It
// imports nothing from Fyne; the ui package renders what it produces.
package app
