package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/alert"
	"github.com/plexwarden/plexwarden/internal/words"
)

// alertsView is Settings' "Alert channels" card: the channels besides
// desktop popups (ntfy, webhook, email), each with Send test, Edit… and
// Remove, and Add channel….
type alertsView struct {
	u    *UI
	b    AlertsBackend
	list *fyne.Container
	add  *widget.Button
	// status shows each channel's last test or failure, by name.
	status map[string]*widget.Label
	box    *fyne.Container
	form   *channelForm // the editor last opened (tests)
}

func newAlertsView(u *UI, b AlertsBackend) *alertsView {
	v := &alertsView{u: u, b: b, list: container.NewVBox(), status: map[string]*widget.Label{}}
	v.add = widget.NewButtonWithIcon("Add channel…", theme.ContentAddIcon(), func() { v.edit(nil) })
	v.refresh()
	v.box = container.NewVBox(v.list, container.NewHBox(v.add))
	return v
}

// refresh lists the channels (UI goroutine).
func (v *alertsView) refresh() {
	v.list.RemoveAll()
	old := v.status
	v.status = map[string]*widget.Label{}
	chs := v.b.AlertChannels()
	if len(chs) == 0 {
		l := newLabel("None yet. Add ntfy (a push to your phone, no account needed), a webhook, or email "+
			"to hear about streams while away from this computer.", widget.LowImportance)
		l.Wrapping = fyne.TextWrapWord
		v.list.Add(l)
		return
	}
	for i, ch := range chs {
		if i > 0 {
			v.list.Add(widget.NewSeparator())
		}
		v.list.Add(v.row(ch, old[ch.Name]))
	}
}

func (v *alertsView) row(ch app.AlertChannel, prev *widget.Label) fyne.CanvasObject {
	title := widget.NewLabelWithStyle(ch.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	detail := newLabel(channelSummary(ch), widget.LowImportance)
	detail.Wrapping = fyne.TextWrapWord
	status := newLabel("", widget.LowImportance)
	status.Wrapping = fyne.TextWrapWord
	if prev != nil && prev.Text != "" {
		status.SetText(prev.Text)
		status.Importance = prev.Importance
	} else if s := v.b.AlertStatus(ch.Name); s != "" {
		status.SetText("Last alert failed: " + s)
		status.Importance = widget.DangerImportance
	}
	v.status[ch.Name] = status
	info := container.NewVBox(title, detail, status)
	if status.Text == "" {
		status.Hide() // no blank line under a channel that has nothing to say
	}
	test := widget.NewButtonWithIcon("Send test", theme.MailSendIcon(), func() {
		setVisible(status, info, true)
		v.test(ch, nil, status)
	})
	edit := widget.NewButtonWithIcon("Edit…", theme.DocumentCreateIcon(), func() { v.edit(&ch) })
	remove := widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() { v.remove(ch.Name) })
	// The VBox keeps the buttons at their height beside a tall summary.
	return container.NewBorder(nil, nil, nil, container.NewVBox(container.NewHBox(test, edit, remove)), info)
}

// channelSummary is a channel's settings in one line: "ntfy ·
// https://ntfy.sh/plex · transcode started, terminated · at most 5 a minute".
func channelSummary(ch app.AlertChannel) string {
	kind, _ := alert.KindOf(ch.Type)
	where := ch.URL
	if ch.Type == "email" {
		where = strings.Join(ch.To, ", ") + " via " + ch.SMTP
	}
	var on []string
	for _, t := range alertKindToggles {
		if *t.field(&ch.Kinds) {
			on = append(on, strings.ToLower(t.short))
		}
	}
	kinds := "nothing switched on"
	if len(on) > 0 {
		kinds = strings.Join(on, ", ")
	}
	per := ch.PerMinute
	if per == 0 {
		per = app.DefaultAlertsPerMinute
	}
	parts := []string{kind.Label, where, kinds, "at most " + words.Plural(per, "alert", "alerts") + " a minute"}
	if ch.Off {
		parts = append([]string{"off"}, parts...)
	}
	return strings.Join(parts, " · ")
}

// alertKindToggles are the kinds a channel can switch, with short names.
var alertKindToggles = []struct {
	short string
	field func(*app.Notifications) *bool
}{
	{"New sessions", func(n *app.Notifications) *bool { return &n.NewSession }},
	{"Transcodes", func(n *app.Notifications) *bool { return &n.TranscodeStarted }},
	{"Terminate results", func(n *app.Notifications) *bool { return &n.Terminated }},
	{"Server lost/back", func(n *app.Notifications) *bool { return &n.ServerLost }},
	{"Token rejected", func(n *app.Notifications) *bool { return &n.TokenRejected }},
	{"Diagnostics", func(n *app.Notifications) *bool { return &n.Diagnostics }},
}

// test sends a test alert through ch (secret nil: the stored one) and
// shows the outcome in status (UI goroutine; the send runs off it).
func (v *alertsView) test(ch app.AlertChannel, secret *string, status *widget.Label) {
	status.Importance = widget.MediumImportance
	status.SetText("Sending a test…")
	st := v.u.state
	v.u.bg.Add(1)
	go func() {
		defer v.u.bg.Done()
		ctx, cancel := context.WithTimeout(v.u.ctx, alert.SendTimeout+alert.SendTimeout/2)
		defer cancel()
		err := v.b.TestAlertChannel(ctx, ch, secret, st)
		fyne.Do(func() {
			if err != nil {
				status.Importance = widget.DangerImportance
				status.SetText("Test failed: " + err.Error())
				return
			}
			status.Importance = widget.SuccessImportance
			status.SetText("Test sent to " + ch.Name + ".")
		})
	}()
}

func (v *alertsView) remove(name string) {
	dialog.ShowConfirm("Remove alert channel", "Remove “"+name+"” and its stored secret?", func(ok bool) {
		if !ok {
			return
		}
		v.u.bg.Add(1)
		go func() {
			defer v.u.bg.Done()
			err := v.b.RemoveAlertChannel(v.u.ctx, name)
			fyne.Do(func() {
				v.refresh()
				if err != nil {
					v.u.settings.showSaveError(err.Error())
				}
			})
		}()
	}, v.u.win)
}

// channelForm is the editor of one channel.
type channelForm struct {
	v       *alertsView
	old     string // the name being edited; "" for a new channel
	stored  bool   // the edited channel has a secret in the keyring
	typ     *widget.Select
	name    *widget.Entry
	url     *widget.Entry
	smtp    *widget.Entry
	from    *widget.Entry
	to      *widget.Entry
	user    *widget.Entry
	secret  *widget.Entry
	secretF *widget.Form
	limit   *widget.Entry
	on      *widget.Check
	kinds   []*widget.Check // one per alertKindToggles
	httpBox *fyne.Container
	mailBox *fyne.Container
	msg     *widget.Label
	save    *widget.Button
	testB   *widget.Button
	content *fyne.Container
	dlg     dialog.Dialog
}

// edit opens the editor for ch (nil: a new channel).
func (v *alertsView) edit(ch *app.AlertChannel) {
	f := &channelForm{v: v}
	cur := app.AlertChannel{Type: "ntfy", Kinds: app.Notifications{TranscodeStarted: true, Terminated: true, ServerLost: true, TokenRejected: true, Diagnostics: true}}
	title := "Add alert channel"
	if ch != nil {
		cur, f.old, title = *ch, ch.Name, "Edit alert channel"
		f.stored = v.b.HasAlertSecret(ch.Name)
	}
	f.build(cur)
	v.form = f
	f.dlg = dialog.NewCustomWithoutButtons(title, container.NewVScroll(f.content), v.u.win)
	f.dlg.Resize(fyne.NewSize(560, 540))
	f.dlg.Show()
	v.u.win.Canvas().Focus(f.name)
}

func (f *channelForm) build(ch app.AlertChannel) {
	var labels []string
	for _, k := range alert.Kinds() {
		labels = append(labels, k.Label)
	}
	f.typ = widget.NewSelect(labels, func(string) { f.showType() })
	f.name = widget.NewEntry()
	f.name.SetPlaceHolder("e.g. phone")
	f.name.SetText(ch.Name)
	f.url = widget.NewEntry()
	f.url.SetText(ch.URL)
	f.smtp = widget.NewEntry()
	f.smtp.SetPlaceHolder("smtp.example.com:587")
	f.smtp.SetText(ch.SMTP)
	f.from = widget.NewEntry()
	f.from.SetPlaceHolder("plex-warden@example.com")
	f.from.SetText(ch.From)
	f.to = widget.NewEntry()
	f.to.SetPlaceHolder("you@example.com, another@example.com")
	f.to.SetText(strings.Join(ch.To, ", "))
	f.user = widget.NewEntry()
	f.user.SetPlaceHolder("optional")
	f.user.SetText(ch.User)
	f.secret = widget.NewPasswordEntry()
	if f.stored {
		f.secret.SetPlaceHolder("stored in the system keyring; type to replace")
	}
	f.limit = widget.NewEntry()
	f.limit.SetPlaceHolder(strconv.Itoa(app.DefaultAlertsPerMinute))
	if ch.PerMinute > 0 {
		f.limit.SetText(strconv.Itoa(ch.PerMinute))
	}
	f.on = widget.NewCheck("Send alerts to this channel", nil)
	f.on.SetChecked(!ch.Off)
	kinds := container.NewGridWithColumns(3) // fits a dialog inside 800 px
	for _, t := range alertKindToggles {
		c := widget.NewCheck(t.short, nil)
		c.SetChecked(*t.field(&ch.Kinds))
		f.kinds = append(f.kinds, c)
		kinds.Add(c)
	}
	f.msg = widget.NewLabel("")
	f.msg.Wrapping = fyne.TextWrapWord
	f.msg.Hide()

	urlItem := widget.NewFormItem("URL", f.url)
	f.httpBox = container.NewVBox(widget.NewForm(urlItem))
	f.mailBox = container.NewVBox(widget.NewForm(
		widget.NewFormItem("SMTP server", f.smtp), widget.NewFormItem("From", f.from),
		widget.NewFormItem("To", f.to), widget.NewFormItem("Login", f.user)))
	limitItem := widget.NewFormItem("Per minute", f.limit)
	limitItem.HintText = "more are summed up in one alert when the minute allows"
	secretItem := widget.NewFormItem("Secret", f.secret)
	secretItem.HintText = "kept in the system keyring, never in the config file"
	f.secretF = widget.NewForm(secretItem, limitItem)

	f.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), f.submit)
	f.save.Importance = widget.HighImportance
	f.testB = widget.NewButtonWithIcon("Send test", theme.MailSendIcon(), f.sendTest)
	cancel := widget.NewButton("Cancel", func() { f.dlg.Hide() })
	f.content = container.NewVBox(
		widget.NewForm(widget.NewFormItem("Type", f.typ), widget.NewFormItem("Name", f.name)),
		f.httpBox, f.mailBox, f.secretF,
		widget.NewLabel("Send:"), kinds, f.on,
		f.msg,
		container.NewHBox(f.save, f.testB, cancel),
	)
	kind, _ := alert.KindOf(ch.Type)
	f.typ.SetSelected(kind.Label) // runs showType
}

// kind is the type chosen in the form.
func (f *channelForm) kind() alert.Kind {
	for _, k := range alert.Kinds() {
		if k.Label == f.typ.Selected {
			return k
		}
	}
	return alert.Kind{}
}

// showType shows the fields of the chosen type.
func (f *channelForm) showType() {
	k := f.kind()
	mail := k.Type == "email"
	setVisible(f.httpBox, f.content, !mail)
	setVisible(f.mailBox, f.content, mail)
	switch k.Type {
	case "ntfy":
		f.url.SetPlaceHolder("https://ntfy.sh/your-secret-topic")
	case "webhook":
		f.url.SetPlaceHolder("https://example.com/hooks/plex")
	}
	if !f.stored {
		f.secret.SetPlaceHolder(k.SecretLabel)
	}
}

// channel reads the form; the error says which field is wrong.
func (f *channelForm) channel() (app.AlertChannel, *string, error) {
	k := f.kind()
	ch := app.AlertChannel{Name: strings.TrimSpace(f.name.Text), Type: k.Type, Off: !f.on.Checked}
	if k.Type == "email" {
		ch.SMTP, ch.From, ch.User = strings.TrimSpace(f.smtp.Text), strings.TrimSpace(f.from.Text), strings.TrimSpace(f.user.Text)
		for _, to := range strings.Split(f.to.Text, ",") {
			if to = strings.TrimSpace(to); to != "" {
				ch.To = append(ch.To, to)
			}
		}
	} else {
		ch.URL = strings.TrimSpace(f.url.Text)
	}
	if t := strings.TrimSpace(f.limit.Text); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 {
			return ch, nil, fmt.Errorf("per minute: %q is not a whole number of 1 or more", t)
		}
		ch.PerMinute = n
	}
	for i, t := range alertKindToggles {
		*t.field(&ch.Kinds) = f.kinds[i].Checked
	}
	var secret *string
	if f.secret.Text != "" || !f.stored {
		s := f.secret.Text
		secret = &s
	}
	return ch, secret, alert.Validate(ch)
}

func (f *channelForm) say(text string, imp widget.Importance) {
	f.msg.Importance = imp
	f.msg.SetText(text)
	setVisible(f.msg, f.content, text != "")
}

func (f *channelForm) submit() {
	ch, secret, err := f.channel()
	if err != nil {
		f.say(words.Capitalize(err.Error())+".", widget.DangerImportance)
		return
	}
	f.save.Disable()
	f.say("Saving…", widget.MediumImportance)
	v := f.v
	v.u.bg.Add(1)
	go func() {
		defer v.u.bg.Done()
		err := v.b.SaveAlertChannel(v.u.ctx, f.old, ch, secret)
		fyne.Do(func() {
			f.save.Enable()
			saved := err == nil || savedAnyway(v.b, ch.Name)
			if !saved {
				f.say(words.Capitalize(err.Error())+".", widget.DangerImportance)
				return // the dialog stays, with what was typed
			}
			v.refresh()
			if err != nil { // saved, with a keyring warning
				v.u.settings.showSaveError(err.Error())
			}
			f.dlg.Hide()
		})
	}()
}

// savedAnyway reports whether the channel named name is in the config
// (a keyring warning after a successful save).
func savedAnyway(b AlertsBackend, name string) bool {
	for _, ch := range b.AlertChannels() {
		if ch.Name == name {
			return true
		}
	}
	return false
}

func (f *channelForm) sendTest() {
	ch, secret, err := f.channel()
	if err != nil {
		f.say(words.Capitalize(err.Error())+".", widget.DangerImportance)
		return
	}
	if secret == nil {
		ch.Name = f.old // the stored secret is under the saved name
	}
	f.v.test(ch, secret, f.msg)
	setVisible(f.msg, f.content, true)
}
