package ui

import "github.com/plexwarden/plexwarden/app"

// Push queues a ready-made notification (from the rules engine, the
// diagnostics detector or the local clean-up) under its kind's switch,
// coalesced and rate-limited like the others. Any goroutine.
func (u *UI) Push(n app.Notification) { u.notifier.Push(n) }
