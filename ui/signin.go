package ui

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex/plextv"
)

// SignInBackend signs in with a Plex account and adds the servers it owns;
// app implements it with plex.tv's PIN flow, tests fake it.
type SignInBackend interface {
	// SignIn creates a PIN, calls showURL once with the page where the
	// user approves Plex Warden (and the PIN's code), polls until the token
	// arrives or the PIN expires, then finds and probes the account's owned
	// servers and adds them. It returns the names of the servers added.
	// Errors: one matching plextv.ErrPINExpired when the code expired,
	// ctx's error when cancelled, and one matching app.ErrKeyringUnavailable
	// when the servers were added for this run only. It blocks; showURL may
	// be called from any goroutine.
	SignIn(ctx context.Context, showURL func(authURL, code string)) (added []string, err error)
}

// openURL opens a page in the user's browser; tests replace it.
var openURL = func(u *url.URL) error { return fyne.CurrentApp().OpenURL(u) }

// Texts of the sign-in dialog.
const (
	signInStarting = "Asking plex.tv for a sign-in code…"
	signInWaiting  = "Waiting for you to approve Plex Warden in your browser…"
	signInHowTo    = "Open this page, sign in to Plex and allow Plex Warden. It adds the servers your account owns."
	signInExpired  = "The sign-in code expired before it was approved. Try again."
)

// signInFlow runs "Sign in with Plex": a dialog that shows the page to
// open while the backend waits for approval, then the servers it added.
// UI goroutine only, except the backend call.
type signInFlow struct {
	u *UI
	b SignInBackend

	run     int                // the current attempt; results of older ones are dropped
	cancel  context.CancelFunc // ends the running attempt; nil when none runs
	shown   bool               // the dialog is open
	authURL string

	status    *widget.Label   // Settings: the last attempt's result
	statusBox *fyne.Container // parent of status

	dlg    *dialog.CustomDialog
	msg    *widget.Label
	url    *widget.Label
	code   *widget.Label
	urlBox *fyne.Container
	busy   *widget.Activity
	body   *fyne.Container
}

func newSignInFlow(u *UI, b SignInBackend) *signInFlow {
	f := &signInFlow{u: u, b: b}
	f.status = widget.NewLabel("")
	f.status.Wrapping = fyne.TextWrapWord
	f.status.Selectable = true
	f.status.Hide()
	return f
}

// newButton returns a "Sign in with Plex…" button (Settings, demo banner).
func (f *signInFlow) newButton() *widget.Button {
	b := widget.NewButtonWithIcon("Sign in with Plex…", theme.LoginIcon(), f.start)
	b.Importance = widget.HighImportance
	return b
}

// newSettingsRow is the top of Settings' servers section: the button, what
// it does, and the last result.
func (f *signInFlow) newSettingsRow() fyne.CanvasObject {
	hint := newLabel("Sign in to your Plex account in the browser and Plex Warden adds the servers you own. "+
		"You can also add a server by its address and token below.", widget.LowImportance)
	hint.Wrapping = fyne.TextWrapWord
	f.statusBox = container.NewVBox(container.NewHBox(f.newButton()), hint, f.status)
	return f.statusBox
}

// start begins a sign-in, or brings the dialog back while one runs (button
// tap, UI goroutine).
func (f *signInFlow) start() {
	f.u.showWindow()
	if f.cancel != nil {
		f.show()
		return
	}
	f.run++
	run := f.run
	ctx, cancel := context.WithCancel(f.u.ctx)
	f.cancel = cancel
	f.showProgress()
	f.u.backgroundWith(ctx, 0, func(ctx context.Context) func() {
		defer cancel()
		added, err := f.b.SignIn(ctx, func(authURL, code string) {
			fyne.Do(func() {
				if f.run == run && f.cancel != nil {
					f.showURL(authURL, code)
				}
			})
		})
		return func() { f.done(run, added, err) }
	})
}

// build creates the dialog once; attempts change its content.
func (f *signInFlow) build() {
	if f.dlg != nil {
		return
	}
	f.msg = widget.NewLabel("")
	f.msg.Wrapping = fyne.TextWrapWord
	f.msg.Selectable = true // errors and the keyring help are worth copying
	f.url = widget.NewLabel("")
	f.url.Wrapping = fyne.TextWrapBreak // one long word
	f.url.Selectable = true
	f.code = newLabel("", widget.LowImportance)
	open := widget.NewButtonWithIcon("Open browser", theme.ComputerIcon(), f.openBrowser)
	open.Importance = widget.HighImportance
	copyURL := widget.NewButtonWithIcon("Copy address", theme.ContentCopyIcon(), func() {
		f.u.app.Clipboard().SetContent(f.authURL)
	})
	hint := widget.NewLabel(signInHowTo)
	hint.Wrapping = fyne.TextWrapWord
	f.urlBox = container.NewVBox(hint, f.url, container.NewHBox(open, copyURL, f.code))
	f.busy = widget.NewActivity()
	f.body = container.NewVBox(container.NewBorder(nil, nil, f.busy, nil, f.msg), f.urlBox)
	f.dlg = dialog.NewCustomWithoutButtons("Sign in with Plex", f.body, f.u.win)
	f.dlg.SetOnClosed(func() {
		f.shown = false
		if f.cancel != nil { // closed while waiting: give up this attempt
			f.cancel()
		}
	})
}

// show opens the dialog (again).
func (f *signInFlow) show() {
	f.dlg.Show()
	f.dlg.Resize(fyne.NewSize(560, f.dlg.MinSize().Height))
	f.shown = true
}

// showProgress resets the dialog for a new attempt.
func (f *signInFlow) showProgress() {
	f.build()
	f.authURL = ""
	f.msg.Importance = widget.MediumImportance
	f.msg.SetText(signInStarting)
	f.urlBox.Hide()
	f.busy.Show()
	f.busy.Start()
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), f.dlg.Hide) // Hide runs SetOnClosed: cancels
	f.dlg.SetButtons([]fyne.CanvasObject{cancel})
	f.body.Refresh()
	f.show()
}

// showURL shows the page to open (the backend's showURL, via fyne.Do).
func (f *signInFlow) showURL(authURL, code string) {
	f.authURL = authURL
	f.msg.SetText(signInWaiting)
	f.url.SetText(authURL)
	f.code.SetText(labelled("Code", code))
	f.urlBox.Show()
	f.body.Refresh()
	if f.shown {
		f.show() // grow to fit the address
	}
}

// openBrowser opens the page ("Open browser" tap).
func (f *signInFlow) openBrowser() {
	u, err := url.Parse(f.authURL)
	if err == nil {
		err = openURL(u)
	}
	if err != nil {
		f.msg.Importance = widget.WarningImportance
		f.msg.SetText("Could not open a browser (" + err.Error() + "). Copy the address below into one.")
	}
}

// done shows an attempt's result in Settings and, while it is open, in the
// dialog; added servers are listed at once (their state comes with Post).
func (f *signInFlow) done(run int, added []string, err error) {
	if run != f.run {
		return
	}
	f.cancel = nil
	text, imp, retry := signInResultText(added, err)
	f.status.Importance = imp
	f.status.SetText(text)
	setVisible(f.status, f.statusBox, true)
	if len(added) > 0 {
		f.u.settings.refreshServers()
	}
	if f.dlg == nil || !f.shown {
		return // cancelled: Settings says so
	}
	f.busy.Stop()
	f.busy.Hide()
	f.urlBox.Hide()
	f.msg.Importance = imp
	f.msg.SetText(text)
	buttons := []fyne.CanvasObject{widget.NewButton("Close", f.dlg.Hide)}
	if retry {
		again := widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), f.start)
		again.Importance = widget.HighImportance
		buttons = append([]fyne.CanvasObject{again}, buttons...)
	}
	f.dlg.SetButtons(buttons)
	f.body.Refresh()
	f.show()
}

// signInResultText words a sign-in's outcome, its colour, and whether to
// offer "Try again".
func signInResultText(added []string, err error) (string, widget.Importance, bool) {
	names := ""
	if len(added) > 0 {
		names = "Added: " + strings.Join(added, ", ") + "."
	}
	switch {
	case err == nil && names != "":
		watching := " Plex Warden is watching them now."
		if len(added) == 1 {
			watching = " Plex Warden is watching it now."
		}
		return names + watching, widget.SuccessImportance, false
	case err == nil:
		return "Signed in, but the account owns no Plex server that Plex Warden could reach. " +
			"Add one by its address and token below.", widget.WarningImportance, false
	case errors.Is(err, app.ErrKeyringUnavailable) && names != "":
		kept := " The system keyring is not available, so their tokens are kept for this run only.\n"
		if len(added) == 1 {
			kept = " The system keyring is not available, so its token is kept for this run only.\n"
		}
		return names + kept + app.KeyringHelp, widget.WarningImportance, false
	case errors.Is(err, plextv.ErrPINExpired):
		return joinSpace(names, signInExpired), widget.WarningImportance, true
	case errors.Is(err, context.Canceled):
		if names != "" {
			return names + " The sign-in was cancelled before the rest could be added.", widget.WarningImportance, false
		}
		return "Sign-in cancelled; nothing was changed.", widget.LowImportance, false
	}
	if names != "" {
		return names + " Others could not be added: " + err.Error(), widget.DangerImportance, true
	}
	var plain *app.SignInError
	if errors.As(err, &plain) {
		return plain.Text, widget.DangerImportance, true // already a sentence in plain words
	}
	return "Sign-in failed: " + err.Error(), widget.DangerImportance, true
}
