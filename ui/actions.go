package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/internal/words"
)

// actionable looks up the session with key for an action on it: nil, with
// the reason in the status line, when it has ended or its server is down
// (UI goroutine).
func (u *UI) actionable(key string) (app.Session, bool) {
	s, ok := u.lookup(key)
	if !ok {
		u.status.showResult("That session has already ended.", widget.WarningImportance)
		return app.Session{}, false
	}
	if u.isDown(s.Server) {
		u.status.showResult(downReason(s.Server), widget.WarningImportance)
		return app.Session{}, false
	}
	return s, true
}

// messageEntry is a terminate dialog's message field: text prefilled,
// rows lines high; Esc closes the dialog even while typing.
func (u *UI) messageEntry(text string, rows int) *escEntry {
	msg := newEscEntry(u.dismissDialog)
	msg.MultiLine = true
	msg.Wrapping = fyne.TextWrapWord
	msg.SetMinRowsVisible(rows)
	msg.SetText(text)
	return msg
}

// showMessageDialog shows a terminate dialog of size, its confirm button
// marked dangerous, with its message focused and the cursor at its end, to
// add to the message, not retype it.
func (u *UI) showMessageDialog(d *dialog.ConfirmDialog, msg *escEntry, size fyne.Size) {
	d.SetConfirmImportance(widget.DangerImportance)
	d.Resize(size)
	u.showDialog(d)
	u.win.Canvas().Focus(msg)
	cursorToEnd(&msg.Entry)
	u.win.Canvas().Focus(msg)
}

// confirmTerminate asks for the message shown to the viewer, then
// terminates the session with key. It runs on the UI goroutine (button
// taps and tray actions) and looks the session up now, since table rows
// and menu items outlive the sessions they showed.
func (u *UI) confirmTerminate(key string) {
	s, ok := u.actionable(key)
	if !ok {
		return
	}
	msg := u.messageEntry(messageText(u.b.DefaultMessage(s)), 4)
	intro := widget.NewLabel("Stop " + s.User + "’s stream of “" + s.Title + "” on " + s.Server + "? The viewer sees this message:")
	intro.Wrapping = fyne.TextWrapWord
	content := container.NewBorder(intro, nil, nil, nil, msg)

	d := dialog.NewCustomConfirm("Terminate session", "Terminate", "Cancel", content, func(confirmed bool) {
		if !confirmed {
			return
		}
		if cur, ok := u.lookup(key); ok {
			s = cur // the latest copy; if it ended meanwhile, Plex says so
		}
		u.terminate(s, msg.Text)
	}, u.win)
	u.showMessageDialog(d, msg, fyne.NewSize(520, 320))
}

// terminate runs Backend.Terminate off the UI goroutine and reports the
// result in the status line (the backend notifies it).
func (u *UI) terminate(s app.Session, message string) {
	key := s.Key()
	if u.busy[key] {
		return
	}
	what := s.User + " · " + s.Title
	u.setBusy(key, true)
	u.status.showResult("Terminating "+what+"…", widget.MediumImportance)
	u.background(actionTimeout, func(ctx context.Context) func() {
		res := u.b.Terminate(ctx, s, message)
		return func() {
			u.setBusy(key, false)
			u.status.showResult("Terminate "+what+": "+res.Text(), resultImportance(res))
		}
	})
}

// stopTranscode kills the transcode of the session with key (UI goroutine;
// the HTTP call runs in a goroutine).
func (u *UI) stopTranscode(key string) {
	s, ok := u.actionable(key)
	if !ok || s.TranscodeKey == "" || u.busy[key] {
		return
	}
	what := s.User + " · " + s.Title
	u.setBusy(key, true)
	u.status.showResult("Stopping the transcode of "+what+"…", widget.MediumImportance)
	u.background(actionTimeout, func(ctx context.Context) func() {
		res := u.b.StopTranscode(ctx, s)
		return func() {
			u.setBusy(key, false)
			u.status.showResult("Stop transcode "+what+": "+res.Text(), resultImportance(res))
		}
	})
}

// setBusy marks an action on key as in flight or done and updates the
// buttons that depend on it (UI goroutine).
func (u *UI) setBusy(key string, busy bool) {
	if busy {
		u.busy[key] = true
	} else {
		delete(u.busy, key)
	}
	u.sessions.details.show(u.sessions)
}

// resultImportance colours an action's result: success or danger.
func resultImportance(res app.Result) widget.Importance {
	if res.OK() {
		return widget.SuccessImportance
	}
	return widget.DangerImportance
}

// isDown reports whether server is down in the latest state: its sessions
// are as last known, so no action is sent to it.
func (u *UI) isDown(server string) bool {
	_, down := u.sessions.down[server]
	return down
}

// terminateUserLabel is the action on all of a user's streams, as the
// details pane and the tray offer it.
func terminateUserLabel(user string) string {
	return "Terminate all of " + user + "’s streams…"
}

// confirmTerminateUser lists every live stream of the user of the session
// with key (on every server), asks for the message and terminates them
// all (UI goroutine). Left as prefilled, the message is each player's
// default; an edited message goes to every stream.
func (u *UI) confirmTerminateUser(key string) {
	s, ok := u.actionable(key)
	if !ok {
		return
	}
	streams := u.b.UserSessions(s)
	if len(streams) == 0 {
		streams = []app.Session{s}
	}
	lines := make([]string, len(streams))
	for i := range streams {
		lines[i] = "• " + joinDot(streams[i].Title, streams[i].Player.Title, streams[i].Server)
	}
	intro := widget.NewLabel("Stop " + words.Plural(len(streams), "stream", "streams") + " of " + s.User + "?")
	intro.Wrapping = fyne.TextWrapWord
	list := widget.NewLabel(strings.Join(lines, "\n"))
	list.Truncation = fyne.TextTruncateEllipsis
	msgNote := widget.NewLabel("The viewer sees this message (left as it is, each player gets its own default):")
	msgNote.Wrapping = fyne.TextWrapWord
	prefill := messageText(u.b.DefaultMessage(s))
	msg := u.messageEntry(prefill, 3)
	listScroll := container.NewVScroll(list)
	if h := list.MinSize().Height; len(streams) > 4 { // four lines, the others scroll
		listScroll.SetMinSize(fyne.NewSize(0, h*4/float32(len(streams))))
	} else {
		listScroll.SetMinSize(fyne.NewSize(0, h))
	}
	content := container.NewBorder(container.NewVBox(intro, listScroll, msgNote), nil, nil, nil, msg)

	d := dialog.NewCustomConfirm("Terminate all of "+s.User+"’s streams", "Terminate all", "Cancel", content, func(confirmed bool) {
		if !confirmed {
			return
		}
		message := msg.Text
		if message == prefill || strings.TrimSpace(message) == "" {
			message = "" // each player's default
		}
		u.terminateUser(s, message)
	}, u.win)
	u.showMessageDialog(d, msg, fyne.NewSize(540, 400))
}

// terminateUser runs Backend.TerminateUser off the UI goroutine and sums
// the results up in the status line.
func (u *UI) terminateUser(s app.Session, message string) {
	key := s.Key()
	if u.busy[key] {
		return
	}
	what := "all of " + s.User + "’s streams"
	u.setBusy(key, true)
	u.status.showResult("Terminating "+what+"…", widget.MediumImportance)
	u.background(actionTimeout, func(ctx context.Context) func() {
		res := u.b.TerminateUser(ctx, s, message)
		return func() {
			u.setBusy(key, false)
			text, imp := terminateUserResult(res)
			u.status.showResult("Terminate "+what+": "+text, imp)
		}
	})
}

// terminateUserResult sums up TerminateUser's results: "2 stopped", or
// each failure with its title.
func terminateUserResult(res []app.SessionResult) (string, widget.Importance) {
	if len(res) == 0 {
		return "nothing was playing any more", widget.WarningImportance
	}
	ok := 0
	var failed []string
	for _, r := range res {
		if r.Result.OK() {
			ok++
			continue
		}
		failed = append(failed, "“"+r.Session.Title+"”: "+r.Result.Text())
	}
	if len(failed) == 0 {
		return words.Plural(ok, "stream", "streams") + " stopped", widget.SuccessImportance
	}
	return fmt.Sprintf("%d of %d stopped; %s", ok, len(res), strings.Join(failed, "; ")), widget.DangerImportance
}
