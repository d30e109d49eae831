// Package soak proves Plex Warden under stress. It holds no production
// code: its tests run the real chain (plexsim over 127.0.0.1, plex.Client
// and Feed, app.Monitor and app.Hub, the rules Engine, the history on disk)
// while injecting faults, and kill the real `plexwarden watch` binary with
// SIGKILL to check the history and the configuration survive.
//
// The tests run for PLEXWARDEN_SOAK (a Go duration, default 30s; `make
// soak` sets 5m) and are seeded: PLEXWARDEN_SOAK_SEED replays a run, and
// a failing run prints its seed. The subdirectories hold the helper
// programs of `make measure`: loadsim (a simulated server with N live
// sessions) and traywatch (a fake tray host that times the app's tray
// registration).
package soak
