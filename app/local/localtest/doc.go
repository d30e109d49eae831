// Package localtest starts real stand-in transcoder processes for tests of
// package local and its users: copies of /bin/sh or of ffmpeg
// renamed "Plex Transcoder", with the arguments and working directory Plex
// gives its transcoder. Every process runs in its own process group, is
// reaped in the background and is ended, group and all, by t.Cleanup.
//
// It is meant for tests only and is empty on non-Unix systems (it needs
// process groups and signals).
package localtest
