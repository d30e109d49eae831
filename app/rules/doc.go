// Package rules is Plex Warden's automatic enforcement: rules that
// terminate (or stop the transcode of, notify about, or only log) the
// sessions an admin does not want, with a message that fits the viewer's
// player.
//
// The package has three parts:
//
//   - the rules file (File, Rule, Load, Save, Kinds): JSON in the user's
//     configuration directory, documented in docs/RULES.md;
//   - pure evaluation (Evaluate, RenderMessage, Hint, PlayerFamily): what
//     the rules would do to a given state, for the GUI's preview;
//   - the Engine, which watches monitor updates (Observe), acts within
//     milliseconds of the event that made a session match, waits out grace
//     delays, verifies that terminated sessions are gone, escalates to
//     stopping the transcode when a player ignores the terminate, and writes
//     every action to the history.
//
// Each kind of rule is one entry in specs (kindspecs.go): its description
// and parameters for the editor (Kinds, LookupKind, LookupParam), its
// defaults, validation, test and reason in words. The Engine's stages live
// in their own files: evaluate.go (which rules match, grace delays),
// incremental.go (the same over only the sessions a monitor update
// changed: an index per rule and per user/server count, followed from
// app.Update.Delta), preview.go (what they would do, for dry runs and the editor), act.go
// (terminate, stop the transcode, retries, escalation), verify.go (is the
// stream gone?) and record.go (history and notifications).
//
// Package rules imports app; app never imports rules. The desktop app
// (app/desktop.New) and the headless `plexwarden watch` (app/cli) wire
// them, each the same way:
//
//	engine := rules.NewEngine(rules.Options{Actor: hub, History: hist, Notify: notify, Diag: detector})
//	hub.OnUpdate(engine.Observe)
//	go engine.Run(ctx)
package rules
