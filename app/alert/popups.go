package alert

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/plexwarden/plexwarden/app"
)

// The notification server's D-Bus names
// (https://specifications.freedesktop.org/notification-spec/latest/protocol.html).
const (
	notifyName  = "org.freedesktop.Notifications"
	notifyPath  = "/org/freedesktop/Notifications"
	notifyIface = "org.freedesktop.Notifications"
)

// Popup actions: the keys a notification server sends back in
// ActionInvoked, and their button labels.
const (
	ActionTerminate = "terminate" // "Terminate…": ask how to end the session
	ActionOpen      = "open"      // "Open": show the window
)

// maxShown bounds the popups remembered for their actions.
const maxShown = 64

// PopupOptions configures Popups. Zero fields take the defaults.
type PopupOptions struct {
	AppName      string        // shown as the sender ("Plex Warden")
	DesktopEntry string        // the .desktop file's name without ".desktop", for the icon
	Expire       time.Duration // how long an ordinary popup stays (DefaultPopupExpire); sticky ones stay
	// OnAction is called (on Run's goroutine) when the admin picks an
	// action of a popup: ActionTerminate or ActionOpen, with the
	// notification it was on.
	OnAction func(n app.Notification, action string)
	// Conn is the session bus; nil uses the shared dbus.SessionBus (not
	// closed by Popups).
	Conn *dbus.Conn
}

// DefaultPopupExpire is how long an ordinary popup stays on screen.
const DefaultPopupExpire = 6 * time.Second

// Popups shows desktop popups by talking to the notification server
// (org.freedesktop.Notifications) directly over D-Bus: unlike Fyne's
// SendNotification, it names the app "Plex Warden", lets ordinary popups
// expire, and offers actions on a transcode where the server supports them.
type Popups struct {
	opts PopupOptions
	obj  dbus.BusObject

	mu      sync.Mutex
	actions *bool                       // the server lists "actions"; nil until asked
	shown   map[uint32]app.Notification // popups with actions, by id, until closed
	order   []uint32                    // ids in shown, oldest first
}

// NewPopups connects to the session bus. The error means there is none,
// or the platform's popups do not go through D-Bus (Windows, macOS): the
// caller falls back to Fyne's popups.
func NewPopups(opts PopupOptions) (*Popups, error) {
	if !dbusPopups {
		return nil, errors.ErrUnsupported
	}
	if opts.Conn == nil {
		conn, err := dbus.SessionBus() // shared with Fyne and systray: do not Close
		if err != nil {
			return nil, fmt.Errorf("no D-Bus session bus for desktop popups: %w", err)
		}
		opts.Conn = conn
	}
	if opts.AppName == "" {
		opts.AppName = "Plex Warden"
	}
	if opts.Expire <= 0 {
		opts.Expire = DefaultPopupExpire
	}
	return &Popups{opts: opts, obj: opts.Conn.Object(notifyName, notifyPath), shown: map[uint32]app.Notification{}}, nil
}

// supportsActions asks the server once whether it shows action buttons.
func (p *Popups) supportsActions(ctx context.Context) bool {
	p.mu.Lock()
	known := p.actions
	p.mu.Unlock()
	if known != nil {
		return *known
	}
	var caps []string
	if err := p.obj.CallWithContext(ctx, notifyIface+".GetCapabilities", 0).Store(&caps); err != nil {
		return false // asked again next time: the server may be starting
	}
	has := false
	for _, c := range caps {
		has = has || c == "actions"
	}
	p.mu.Lock()
	p.actions = &has
	p.mu.Unlock()
	return has
}

// popupActions are the actions offered on n: on one session's transcode,
// "Terminate…" and "Open".
func popupActions(n app.Notification) []string {
	if n.Kind != app.NotifyTranscode || n.SessionKey == "" {
		return nil
	}
	return []string{ActionTerminate, "Terminate…", ActionOpen, "Open"}
}

// Send shows n. Ordinary popups expire after Expire; sticky ones (failures,
// diagnostics) stay until dismissed.
func (p *Popups) Send(ctx context.Context, n app.Notification) error {
	var actions []string
	if p.opts.OnAction != nil && popupActions(n) != nil && p.supportsActions(ctx) {
		actions = popupActions(n)
	}
	expire := int32(p.opts.Expire / time.Millisecond)
	urgency := byte(1) // normal
	if n.Sticky {
		expire = 0 // never: the admin should see it
	}
	hints := map[string]dbus.Variant{"urgency": dbus.MakeVariant(urgency)}
	if p.opts.DesktopEntry != "" {
		hints["desktop-entry"] = dbus.MakeVariant(p.opts.DesktopEntry)
	}
	var id uint32
	err := p.obj.CallWithContext(ctx, notifyIface+".Notify", 0,
		p.opts.AppName, uint32(0), "", n.Title, n.Body, actions, hints, expire).Store(&id)
	if err != nil {
		return fmt.Errorf("the desktop's notification service did not show the popup: %w", err)
	}
	if len(actions) > 0 {
		p.remember(id, n)
	}
	return nil
}

func (p *Popups) remember(id uint32, n app.Notification) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shown[id] = n
	p.order = append(p.order, id)
	if len(p.order) > maxShown {
		delete(p.shown, p.order[0])
		p.order = p.order[1:]
	}
}

func (p *Popups) forget(id uint32) (app.Notification, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.shown[id]
	delete(p.shown, id)
	return n, ok
}

// Run passes the admin's choices in popups (ActionInvoked) to OnAction
// until ctx ends.
func (p *Popups) Run(ctx context.Context) error {
	conn := p.opts.Conn
	opts := []dbus.MatchOption{dbus.WithMatchInterface(notifyIface), dbus.WithMatchObjectPath(notifyPath)}
	if err := conn.AddMatchSignalContext(ctx, opts...); err != nil {
		return fmt.Errorf("listening for popup actions: %w", err)
	}
	defer func() { _ = conn.RemoveMatchSignalContext(context.WithoutCancel(ctx), opts...) }() // best effort on the way out
	ch := make(chan *dbus.Signal, 16)
	conn.Signal(ch)
	defer conn.RemoveSignal(ch)
	for {
		select {
		case <-ctx.Done():
			return nil
		case sig := <-ch:
			p.handle(sig)
		}
	}
}

func (p *Popups) handle(sig *dbus.Signal) {
	if sig == nil || sig.Path != notifyPath {
		return
	}
	switch sig.Name {
	case notifyIface + ".ActionInvoked":
		var id uint32
		var key string
		if err := dbus.Store(sig.Body, &id, &key); err != nil {
			return
		}
		if n, ok := p.forget(id); ok && p.opts.OnAction != nil {
			p.opts.OnAction(n, key)
		}
	case notifyIface + ".NotificationClosed":
		if len(sig.Body) > 0 {
			if id, ok := sig.Body[0].(uint32); ok {
				p.forget(id)
			}
		}
	}
}
