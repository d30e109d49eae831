// Package local finds the transcoder processes running on this computer
// (Plex Transcoder, Plex New Transcoder and ffmpeg), ties each one to its
// Plex session, measures what it costs and whether it still produces
// output, and decides which ones are dead enough to clean up.
//
// The pieces, from the bottom up:
//
//   - Matcher says which process names are transcoders.
//   - Scanner lists processes with gopsutil, samples CPU from the difference
//     of CPU times between two scans (it never sleeps per process), reads
//     each transcoder's output directory and links transcode keys to the
//     sessions a LiveSource reports. Run rescans on an adaptive interval and
//     publishes immutable Scan values through a callback.
//   - Policy is a pure, clock-injected rule evaluator: orphaned, idle, CPU
//     hog and too many concurrent transcoders. It remembers how long each
//     condition has held across scans and returns the Findings that are due,
//     each at most once per process and rule.
//   - Kill ends a transcoder: SIGTERM, a short wait, then SIGKILL on Unix;
//     TerminateProcess on Windows. It refuses processes that are not
//     transcoders and explains permission errors with their remedy.
//
// The package imports nothing from Fyne and nothing from package app, so
// both the command line and the desktop app (and app's rule engine) can use
// it. See docs/plex-api.md §7 for the markers it relies on.
package local
