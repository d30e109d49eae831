package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/internal/words"
)

// notifyToggles are the notification switches of Settings, one per field
// of app.Notifications.
var notifyToggles = []struct {
	label string
	field func(*app.Notifications) *bool
}{
	{"New sessions", func(n *app.Notifications) *bool { return &n.NewSession }},
	{"A session starts transcoding", func(n *app.Notifications) *bool { return &n.TranscodeStarted }},
	{"Results of terminate and stop transcode", func(n *app.Notifications) *bool { return &n.Terminated }},
	{"A server is lost, and back", func(n *app.Notifications) *bool { return &n.ServerLost }},
	{"A server rejects its token", func(n *app.Notifications) *bool { return &n.TokenRejected }},
	{"Diagnostics: player id collisions, transcode storms", func(n *app.Notifications) *bool { return &n.Diagnostics }},
}

// Autostart hooks, replaced by tests.
var (
	setAutostart = app.SetAutostart
	autostartOn  = app.Autostart
)

// settingsView is the Settings tab: servers, the add-server form,
// notification switches and general options.
type settingsView struct {
	u *UI

	saveErr      *widget.Label
	servers      *fyne.Container
	serverStatus map[string]*widget.Label

	url          *widget.Entry
	token        *widget.Entry
	caFile       *widget.Entry // the source of truth; Browse… only fills it in
	caBrowse     *widget.Button
	insecure     *widget.Check
	insecureWarn *widget.Label
	add          *widget.Button
	addStatus    *widget.Label

	signOut       *widget.Button
	signOutStatus *widget.Label
	signOutBox    *fyne.Container // the Sign out row, parent of signOutStatus
	signedOut     bool            // signed out in this run: servers without a monitor say so

	notify    []*widget.Check
	alerts    *alertsView // nil without Options.Alerts
	autostart *widget.Check
	paused    *widget.Check
	syncing   bool // checks are being set from the model: ignore their OnChanged

	cards   *fyne.Container // the page, parent of saveErr
	addBox  *fyne.Container // the add-server form, parent of its messages
	content fyne.CanvasObject
}

func newSettingsView(u *UI) *settingsView {
	v := &settingsView{u: u, serverStatus: map[string]*widget.Label{}}
	v.saveErr = newLabel("", widget.DangerImportance)
	v.saveErr.Wrapping = fyne.TextWrapWord
	v.saveErr.Hide()

	v.servers = container.NewVBox()
	v.newSignOutRow()
	v.refreshServers()
	servers := container.NewVBox(v.servers, v.signOutBox)
	if u.signIn != nil {
		servers = container.NewVBox(u.signIn.newSettingsRow(), widget.NewSeparator(), v.servers, v.signOutBox)
	}

	v.cards = container.NewVBox(
		v.saveErr,
		widget.NewCard("Servers", "", servers),
		widget.NewCard("Add a server", "", v.newAddForm()),
		widget.NewCard("Notifications", "Desktop popups. Events that come together are combined into one.", v.newNotifyChecks()),
	)
	if u.opts.Alerts != nil {
		v.alerts = newAlertsView(u, u.opts.Alerts)
		v.cards.Add(widget.NewCard("Alert channels", "Alerts that reach you away from this computer. Secrets stay in the system keyring.", v.alerts.box))
	}
	v.cards.Add(widget.NewCard("General", "", v.newGeneral()))
	v.content = container.NewVScroll(v.cards)
	return v
}

func (v *settingsView) newAddForm() fyne.CanvasObject {
	v.url = widget.NewEntry()
	v.url.SetPlaceHolder("https://192.168.1.10:32400")
	v.token = widget.NewPasswordEntry()
	v.token.SetPlaceHolder("X-Plex-Token of the server owner")
	v.insecureWarn = newLabel("Certificates will not be checked: anyone on the network path could read the token. Use only for a server with a self-signed certificate on your own network.", widget.WarningImportance)
	v.insecureWarn.Wrapping = fyne.TextWrapWord
	v.insecureWarn.Hide()
	v.insecure = widget.NewCheck("Allow insecure TLS (do not verify the certificate)", func(on bool) {
		setVisible(v.insecureWarn, v.addBox, on)
	})
	v.add = widget.NewButtonWithIcon("Add server", theme.ContentAddIcon(), v.addServer)
	v.add.Importance = widget.HighImportance
	v.addStatus = widget.NewLabel("")
	v.addStatus.Wrapping = fyne.TextWrapWord
	v.addStatus.Hide()

	tokenItem := widget.NewFormItem("Token", v.token)
	tokenItem.HintText = "In Plex Web, open any item's menu, choose Get Info, then View XML: the address ends in X-Plex-Token=…"
	v.caFile = widget.NewEntry()
	v.caFile.SetPlaceHolder("Optional, e.g. /etc/ssl/certs/home-ca.pem")
	v.caBrowse = widget.NewButtonWithIcon("Browse…", theme.FolderOpenIcon(), v.browseCAFile)
	caItem := widget.NewFormItem("CA file", container.NewBorder(nil, nil, nil, v.caBrowse, v.caFile))
	caItem.HintText = "PEM file of a private certificate authority; not needed for plex.direct addresses"
	form := widget.NewForm(widget.NewFormItem("Server URL", v.url), tokenItem, caItem)
	v.addBox = container.NewVBox(form, v.insecure, v.insecureWarn, container.NewHBox(v.add), v.addStatus)
	return v.addBox
}

func (v *settingsView) newNotifyChecks() fyne.CanvasObject {
	cfg := v.u.b.Config().Notifications
	box := container.NewVBox()
	for _, t := range notifyToggles {
		var check *widget.Check
		check = widget.NewCheck(t.label, func(on bool) {
			if v.syncing {
				return
			}
			err := v.u.b.UpdateConfig(func(c *app.Config) { *t.field(&c.Notifications) = on })
			if err != nil {
				v.showSaveError("Could not save the notification setting: " + err.Error())
				v.setChecked(check, !on)
				return
			}
			v.clearSaveError()
			if v.u.opts.Alerts != nil {
				v.u.opts.Alerts.NotificationsChanged()
			}
		})
		v.setChecked(check, *t.field(&cfg))
		v.notify = append(v.notify, check)
		box.Add(check)
	}
	return box
}

func (v *settingsView) newGeneral() fyne.CanvasObject {
	v.autostart = widget.NewCheck("Start at login", func(on bool) {
		if v.syncing {
			return
		}
		if err := setAutostart(on); err != nil {
			v.showSaveError("Could not change starting at login: " + err.Error())
			v.setChecked(v.autostart, !on)
			return
		}
		if err := v.u.b.UpdateConfig(func(c *app.Config) { c.StartAtLogin = on }); err != nil {
			v.showSaveError("Starting at login was changed, but the setting could not be saved: " + err.Error())
			return
		}
		v.clearSaveError()
	})
	v.setChecked(v.autostart, autostartOn())
	v.paused = widget.NewCheck("Pause automatic rules", func(on bool) {
		if v.syncing {
			return
		}
		v.u.setRulesPaused(on)
	})
	v.syncPaused()
	version := v.u.opts.Version
	if version == "" {
		version = "development build"
	}
	return container.NewVBox(
		v.autostart,
		v.paused,
		newLabel("Theme follows the system.", widget.LowImportance),
		newLabel("Plex Warden "+version, widget.LowImportance),
	)
}

// setChecked sets a check without running its OnChanged.
func (v *settingsView) setChecked(c *widget.Check, on bool) {
	v.syncing = true
	c.SetChecked(on)
	v.syncing = false
}

// syncPaused shows the rules' paused state, which the tray can change too.
func (v *settingsView) syncPaused() {
	v.setChecked(v.paused, v.u.b.RulesPaused())
}

func (v *settingsView) showSaveError(text string) {
	v.saveErr.SetText(text)
	setVisible(v.saveErr, v.cards, true)
}

func (v *settingsView) clearSaveError() { setVisible(v.saveErr, v.cards, false) }

// refreshServers lists the configured servers (UI goroutine).
func (v *settingsView) refreshServers() {
	v.servers.RemoveAll()
	v.serverStatus = map[string]*widget.Label{}
	servers := v.u.b.Config().Servers
	if len(servers) == 0 {
		v.signOut.Disable()
		text := "No server configured yet."
		if v.u.opts.Demo {
			text += " The demo server is shown until you add yours below."
		}
		v.servers.Add(newLabel(text, widget.LowImportance))
		return
	}
	v.signOut.Enable()
	for i, s := range servers {
		name := s.Name
		status := newLabel("", widget.LowImportance)
		v.serverStatus[name] = status
		// The address and its notes in one label: its lines sit closer
		// than separate labels would.
		details := newLabel(strings.Join(append([]string{s.URL}, serverNotes(s)...), "\n"), widget.LowImportance)
		details.Wrapping = fyne.TextWrapWord // a CA file's path can be long
		info := container.NewVBox(
			container.NewHBox(widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), status),
			details,
		)
		if s.Insecure {
			warn := newLabel("Insecure TLS: the certificate is not verified.", widget.WarningImportance)
			info.Add(container.NewHBox(widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon())), warn))
		}
		remove := widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() { v.confirmRemove(name) })
		if i > 0 {
			v.servers.Add(widget.NewSeparator())
		}
		v.servers.Add(container.NewBorder(nil, nil, nil, container.NewCenter(remove), info))
	}
	v.setState(v.u.state)
}

// serverNotes are the lines under a listed server's address: the CA file
// it trusts and, when plex.tv listed several, how many addresses it knows.
func serverNotes(s app.ServerConfig) []string {
	var notes []string
	if s.CAFile != "" {
		notes = append(notes, "Trusts CA file "+s.CAFile)
	}
	if n := len(s.Connections); n > 1 {
		notes = append(notes, fmt.Sprintf("%d addresses known; switches to another when this one fails", n))
	}
	return notes
}

// notWatched is the status of a listed server the hub does not watch:
// signed out, or not started in this run (the app runs on PLEX_URL or the
// demo server).
func (v *settingsView) notWatched() string {
	if v.signedOut {
		return "signed out"
	}
	return "not watched"
}

// setState shows each listed server's connection state (UI goroutine). A
// server missing from st is not watched (see notWatched); before the first
// state nothing is known yet.
func (v *settingsView) setState(st *app.State) {
	conn := make(map[string]app.Conn, len(st.Servers))
	for _, sn := range st.Servers {
		conn[sn.Server] = sn.Conn
	}
	for name, l := range v.serverStatus {
		text, imp := "", widget.LowImportance
		if c, ok := conn[name]; ok {
			text, imp = c.Status.String(), connImportance(c.Status)
		} else if v.u.gotState {
			text, imp = v.notWatched(), widget.WarningImportance
		}
		if l.Text != text || l.Importance != imp {
			l.Text, l.Importance = text, imp
			l.Refresh()
		}
	}
}

func (v *settingsView) confirmRemove(name string) {
	dialog.ShowConfirm("Remove server", "Stop watching “"+name+"” and forget its token?", func(ok bool) {
		if !ok {
			return
		}
		v.u.background(0, func(context.Context) func() { // stopping a monitor waits for it to end
			err := v.u.b.RemoveServer(name)
			return func() {
				if err != nil {
					v.showSaveError("Could not remove “" + name + "”: " + err.Error())
					return
				}
				v.clearSaveError()
				v.refreshServers()
			}
		})
	}, v.u.win)
}

// browseCAFile picks the CA file with Fyne's file dialog, starting in the
// folder of the one entered (Browse… tap). The entry stays the source of
// truth: the dialog only fills it in.
func (v *settingsView) browseCAFile() {
	d := dialog.NewFileOpen(v.caFileChosen, v.u.win)
	if cur := strings.TrimSpace(v.caFile.Text); cur != "" {
		if dir, err := storage.ListerForURI(storage.NewFileURI(filepath.Dir(cur))); err == nil {
			d.SetLocation(dir)
		}
	}
	d.Show()
}

// caFileChosen is the file dialog's answer: the chosen file's path goes
// into the entry; nil is a cancel.
func (v *settingsView) caFileChosen(r fyne.URIReadCloser, err error) {
	if err != nil {
		v.showAddStatus("Could not open the CA file: "+err.Error(), widget.DangerImportance)
		return
	}
	if r == nil {
		return
	}
	_ = r.Close() // only its path is kept; the backend reads the file
	v.caFile.SetText(r.URI().Path())
}

// newSignOutRow builds the Sign out button under the servers, with its
// result (enabled by refreshServers when a server is configured).
func (v *settingsView) newSignOutRow() {
	v.signOut = widget.NewButtonWithIcon("Sign out", theme.LogoutIcon(), v.confirmSignOut)
	v.signOut.Disable()
	hint := newLabel("Removes the servers' tokens from the system keyring; the servers stay listed.", widget.LowImportance)
	hint.Wrapping = fyne.TextWrapWord
	v.signOutStatus = widget.NewLabel("")
	v.signOutStatus.Wrapping = fyne.TextWrapWord
	v.signOutStatus.Selectable = true // the keyring help names commands
	v.signOutStatus.Hide()
	v.signOutBox = container.NewVBox(widget.NewSeparator(), container.NewBorder(nil, nil, v.signOut, nil, hint), v.signOutStatus)
}

// signOutQuestion asks before signing out of n servers.
func signOutQuestion(n int, signIn bool) string {
	tokens := "the tokens of " + words.Plural(n, "server", "servers")
	them, resume := "them", "sign in again to resume."
	if n == 1 {
		tokens, them = "the token of 1 server", "it"
	}
	if !signIn {
		resume = "add the token again below to resume."
		if n > 1 {
			resume = "add their tokens again below to resume."
		}
	}
	listed := "The servers stay listed; "
	if n == 1 {
		listed = "The server stays listed; "
	}
	return "Remove " + tokens + " from the system keyring and stop watching " + them + "? " + listed + resume
}

// signOutResult words a sign-out's outcome and its colour.
func signOutResult(n int, err error) (string, widget.Importance) {
	if err != nil {
		text := err.Error()
		if r, size := utf8.DecodeRuneInString(text); size > 0 {
			text = string(unicode.ToUpper(r)) + text[size:] // Go errors start in lower case; this is a sentence
		}
		return text, widget.DangerImportance
	}
	removed := "their tokens were removed from the keyring."
	if n == 1 {
		removed = "its token was removed from the keyring."
	}
	return "Signed out of " + words.Plural(n, "server", "servers") + "; " + removed +
		" Plex Warden stays listed under Authorized Devices in your Plex account until you remove it there.", widget.SuccessImportance
}

// confirmSignOut asks, then runs Backend.SignOut off the UI goroutine and
// shows its result under the button (Sign out tap).
func (v *settingsView) confirmSignOut() {
	n := len(v.u.b.Config().Servers)
	if n == 0 {
		return
	}
	text := widget.NewLabel(signOutQuestion(n, v.u.signIn != nil))
	text.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm("Sign out", "Sign out", "Cancel", text, func(ok bool) {
		if ok {
			v.runSignOut()
		}
	}, v.u.win)
	d.SetConfirmImportance(widget.DangerImportance)
	d.Resize(fyne.NewSize(480, 200))
	d.Show()
}

func (v *settingsView) runSignOut() {
	v.signOut.Disable()
	v.showSignOutStatus("Signing out…", widget.MediumImportance)
	v.u.background(actionTimeout, func(ctx context.Context) func() {
		n, err := v.u.b.SignOut(ctx)
		return func() {
			if n > 0 {
				v.signedOut = true
			}
			text, imp := signOutResult(n, err)
			v.showSignOutStatus(text, imp)
			v.refreshServers() // enables the button again
		}
	})
}

func (v *settingsView) showSignOutStatus(text string, imp widget.Importance) {
	v.signOutStatus.Importance = imp
	v.signOutStatus.SetText(text)
	setVisible(v.signOutStatus, v.signOutBox, true)
}

// addServer checks the form and runs Backend.AddServer off the UI goroutine.
func (v *settingsView) addServer() {
	url, token := strings.TrimSpace(v.url.Text), strings.TrimSpace(v.token.Text)
	switch {
	case url == "":
		v.showAddStatus("Enter the server's address, e.g. https://192.168.1.10:32400.", widget.DangerImportance)
		return
	case token == "":
		v.showAddStatus("Enter the Plex token of the server's owner.", widget.DangerImportance)
		return
	}
	insecure, caFile := v.insecure.Checked, strings.TrimSpace(v.caFile.Text)
	v.add.Disable()
	v.showAddStatus("Checking "+url+"…", widget.MediumImportance)
	v.u.background(actionTimeout, func(ctx context.Context) func() {
		name, err := v.u.b.AddServer(ctx, app.NewServer{URL: url, Token: token, Insecure: insecure, CAFile: caFile})
		return func() {
			v.add.Enable()
			if err != nil {
				v.showAddStatus("Could not add the server: "+err.Error(), widget.DangerImportance)
				return
			}
			v.showAddStatus("Added “"+name+"”. Plex Warden is watching it now.", widget.SuccessImportance)
			v.url.SetText("")
			v.token.SetText("")
			v.caFile.SetText("")
			v.insecure.SetChecked(false)
			v.refreshServers()
		}
	})
}

func (v *settingsView) showAddStatus(text string, imp widget.Importance) {
	v.addStatus.Importance = imp
	v.addStatus.SetText(text)
	setVisible(v.addStatus, v.addBox, true)
}

// setRulesPaused pauses or resumes the rules from Settings, the Rules tab,
// the paused strip or the tray and shows the new state in all of them at
// once: both switches, the window's paused strip and the tray (UI
// goroutine).
func (u *UI) setRulesPaused(paused bool) {
	u.b.SetRulesPaused(paused)
	u.settings.syncPaused()
	if u.rules != nil {
		u.rules.syncPaused()
	}
	u.updatePaused()
	if u.tray != nil {
		u.tray.update(u.state)
	}
}
