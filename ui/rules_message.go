// The rule editor's message column: the template, per-player messages and
// the live preview of what the viewer sees.

package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/plex"
)

// buildMessage is the right column: the message template, the per-player
// messages and the live preview on a session.
func (e *ruleEditor) buildMessage() fyne.CanvasObject {
	r := &e.d.rule
	ki := kindInfo(r.Kind)
	head := widget.NewLabelWithStyle(commonParam("message").Label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	hint := newLabel(rules.PlaceholderHint+" · empty: the default shown", widget.LowImportance)
	hint.Wrapping = fyne.TextWrapWord

	e.message = widget.NewMultiLineEntry()
	e.message.Wrapping = fyne.TextWrapWord
	e.message.SetMinRowsVisible(3)
	e.message.SetPlaceHolder(ki.DefaultMessage)
	e.message.SetText(r.Message)
	e.message.OnChanged = func(s string) {
		r.Message = s
		e.v.changed()
	}

	perHead := widget.NewLabelWithStyle(commonParam("messages").Label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	families := make([]string, len(rules.PlayerFamilies))
	for i, f := range rules.PlayerFamilies {
		families[i] = f.Key
	}
	perHint := newLabel("For a player family ("+strings.Join(families[:6], ", ")+", …) or an exact product such as “Plex for Xbox”.", widget.LowImportance)
	perHint.Wrapping = fyne.TextWrapWord
	e.msgRows = container.NewVBox()
	e.rebuildMsgRows()
	addMsg := widget.NewButtonWithIcon("Add player message", theme.ContentAddIcon(), func() {
		e.d.msgs = append(e.d.msgs, msgRow{})
		e.rebuildMsgRows()
	})

	prevHead := widget.NewLabelWithStyle("The viewer sees", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	e.sessions = widget.NewSelect(nil, func(string) { e.renderMessage() })
	e.rendered = widget.NewLabel("")
	e.rendered.Wrapping = fyne.TextWrapWord
	e.rendered.Selectable = true
	// One line: a wrapped label keeps the height of its first, narrower
	// layout until its text changes.
	e.source = newLabel("", widget.LowImportance)
	e.source.Truncation = fyne.TextTruncateEllipsis
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize()
	rendered := container.NewStack(bg, e.rendered)

	return container.NewVBox(head, hint, e.withError("message", e.message),
		prevHead, e.sessions, rendered, e.source,
		widget.NewSeparator(), perHead, perHint, e.withError("messages", e.msgRows), container.NewHBox(addMsg))
}

// rebuildMsgRows shows the per-player messages, one row each: the player
// key (a family to pick, or any product typed), the template and a remove
// button.
func (e *ruleEditor) rebuildMsgRows() {
	e.msgRows.RemoveAll()
	families := make([]string, len(rules.PlayerFamilies))
	for i, f := range rules.PlayerFamilies {
		families[i] = f.Key
	}
	for i := range e.d.msgs {
		row := &e.d.msgs[i]
		key := widget.NewSelectEntry(families)
		key.SetPlaceHolder("player")
		key.SetText(row.key)
		key.OnChanged = func(s string) {
			row.key = s
			e.d.rule.Messages = messagesMap(e.d.msgs)
			e.v.changed()
		}
		text := widget.NewEntry()
		text.SetPlaceHolder("Message for these players")
		text.SetText(row.text)
		text.OnChanged = func(s string) {
			row.text = s
			e.d.rule.Messages = messagesMap(e.d.msgs)
			e.v.changed()
		}
		// The closures hold row i of the current slice; adding or removing
		// a row rebuilds them all.
		remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
			e.d.msgs = slices.Delete(e.d.msgs, i, i+1)
			e.d.rule.Messages = messagesMap(e.d.msgs)
			e.rebuildMsgRows()
			e.v.changed()
		})
		remove.Importance = widget.LowImportance
		keyBox := container.NewGridWrap(fyne.NewSize(130, key.MinSize().Height), key)
		e.msgRows.Add(container.NewBorder(nil, nil, keyBox, remove, text))
	}
	if e.form != nil {
		e.msgRows.Refresh()
	}
}

// exampleSession stands in for a live session in the message preview when
// nothing plays.
func exampleSession() app.Session {
	return app.Session{
		Server: "Home", User: "alice", Title: "The Matrix", Type: "movie", Library: "Movies", State: "playing",
		Player:   app.Player{Title: "Alice’s laptop", Product: "Plex Web", Platform: "Chrome", Device: "Windows"},
		Decision: plex.Transcode, VideoDecision: "transcode", AudioDecision: "copy", VideoTranscode: true, TranscodeKey: "example",
		SourceResolution: "4K", SourceHeight: 2160, SourceVideoCodec: "hevc", TargetResolution: "1080p", TargetVideoCodec: "h264",
		Location: "wan", BandwidthKbps: 12000, BitrateKbps: 40000,
	}
}

// setSessions offers the live sessions of the latest state in the
// preview's select, keeping the selected one by key.
func (e *ruleEditor) setSessions() {
	st := e.v.u.state
	sessions := st.Sessions()
	sortSessions(sessions, sessionOrder{})
	var keys, labels []string
	seen := map[string]int{}
	for i := range sessions {
		l := sessionLabel(&sessions[i], len(st.Servers) > 1)
		if seen[l]++; seen[l] > 1 {
			l += fmt.Sprintf(" (%d)", seen[l])
		}
		keys, labels = append(keys, sessions[i].Key()), append(labels, l)
	}
	selKey := ""
	if i := slices.Index(e.options, e.sessions.Selected); i >= 0 {
		selKey = e.keys[i]
	}
	e.keys = keys
	if !slices.Equal(labels, e.options) {
		e.options = labels
		e.sessions.SetOptions(labels)
	}
	e.sample = len(keys) == 0
	switch {
	case e.sample:
		e.sessions.PlaceHolder = "No live session: an example is shown"
		e.sessions.ClearSelected()
		e.sessions.Disable()
	default:
		e.sessions.PlaceHolder = "Choose a live session"
		e.sessions.Enable()
		i := slices.Index(keys, selKey)
		if i < 0 {
			i = 0
		}
		if e.sessions.Selected != labels[i] {
			e.sessions.SetSelected(labels[i]) // renders
			return
		}
	}
	e.sessions.Refresh()
	e.renderMessage()
}

// previewSession is the session the message preview renders for.
func (e *ruleEditor) previewSession() app.Session {
	if i := slices.Index(e.options, e.sessions.Selected); i >= 0 && !e.sample {
		if s, ok := e.v.u.lookup(e.keys[i]); ok {
			return s
		}
	}
	return exampleSession()
}

// renderMessage shows the message the rule would send to the chosen
// session, as typed so far.
func (e *ruleEditor) renderMessage() {
	if e.rendered == nil {
		return
	}
	s := e.previewSession()
	r := e.d.rule
	setText(e.rendered, displayArrows(rules.RenderMessage(r, s)))
	src := messageSource(r, s)
	switch r.Action {
	case rules.ActionStopTranscode:
		src = "Stop transcode sends no message: the player just stops."
	case rules.ActionLog:
		src = strings.TrimSuffix(src, ".") + " · log only: nothing is sent."
	case rules.ActionNotify:
		src = strings.TrimSuffix(src, ".") + " · notify only: nothing is sent."
	}
	setText(e.source, src)
}
