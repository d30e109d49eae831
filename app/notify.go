package app

import (
	"context"
	"sync"
	"time"

	"github.com/plexwarden/plexwarden/internal/words"
	"github.com/plexwarden/plexwarden/plex"
)

// NotifyKind is a kind of desktop notification. Each kind is switched on or
// off by a field of Notifications and is coalesced and rate-limited on its
// own.
type NotifyKind int

// Kinds of notification.
const (
	NotifyNewSession    NotifyKind = iota // a session started (Notifications.NewSession)
	NotifyTranscode                       // a session started transcoding (Notifications.TranscodeStarted)
	NotifyTerminated                      // a terminate or stop-transcode finished (Notifications.Terminated)
	NotifyServerLost                      // a connected server was lost (Notifications.ServerLost)
	NotifyServerBack                      // a lost server is connected again (Notifications.ServerLost)
	NotifyTokenRejected                   // a server rejected its token (Notifications.TokenRejected)
	NotifyDiagnostic                      // a client-identifier collision or transcode storm (Notifications.Diagnostics)
	numNotifyKinds
)

// String returns the kind in words, e.g. "new session".
func (k NotifyKind) String() string {
	switch k {
	case NotifyNewSession:
		return "new session"
	case NotifyTranscode:
		return "transcode started"
	case NotifyTerminated:
		return "terminated"
	case NotifyServerLost:
		return "server lost"
	case NotifyServerBack:
		return "server back"
	case NotifyTokenRejected:
		return "token rejected"
	case NotifyDiagnostic:
		return "diagnostic"
	}
	return "unknown"
}

// Has reports whether cfg switches kind k on.
func (cfg Notifications) Has(k NotifyKind) bool {
	switch k {
	case NotifyNewSession:
		return cfg.NewSession
	case NotifyTranscode:
		return cfg.TranscodeStarted
	case NotifyTerminated:
		return cfg.Terminated
	case NotifyServerLost, NotifyServerBack:
		return cfg.ServerLost
	case NotifyTokenRejected:
		return cfg.TokenRejected
	case NotifyDiagnostic:
		return cfg.Diagnostics
	}
	return false
}

// Union returns the kinds switched on in any of sets.
func Union(sets ...Notifications) Notifications {
	var u Notifications
	for _, s := range sets {
		u.NewSession = u.NewSession || s.NewSession
		u.TranscodeStarted = u.TranscodeStarted || s.TranscodeStarted
		u.Terminated = u.Terminated || s.Terminated
		u.ServerLost = u.ServerLost || s.ServerLost
		u.TokenRejected = u.TokenRejected || s.TokenRejected
		u.Diagnostics = u.Diagnostics || s.Diagnostics
	}
	return u
}

// Notification is one alert: a desktop popup, an ntfy message, a webhook
// call or an email.
type Notification struct {
	Kind  NotifyKind
	Title string
	Body  string
	// Server, User and SessionKey name the one session the notification
	// is about (empty when it is about a server or several sessions); a
	// popup offers actions on it.
	Server, User, SessionKey string
	// Sticky asks that the popup stay until dismissed: failures and
	// diagnostics an admin should not miss.
	Sticky bool
}

// Default timings of a Notifier.
const (
	// DefaultNotifyWindow is how long a Notifier gathers events of one kind
	// before showing them as one popup.
	DefaultNotifyWindow = 2 * time.Second
	// DefaultNotifyGap is the least time between two popups of one kind.
	// Linux notification daemons keep Fyne's popups until dismissed
	// (expire_timeout 0), so fewer, fuller popups are kinder.
	DefaultNotifyGap = 3 * time.Second
	// DefaultNotifyQuiet is how long after a server's first connection
	// started sessions count as "already playing" rather than new.
	DefaultNotifyQuiet = 10 * time.Second
)

// maxBodyLines bounds a coalesced popup's body; the rest is counted.
const maxBodyLines = 5

// NotifierOptions configures a Notifier. Zero fields take the defaults.
type NotifierOptions struct {
	Window time.Duration    // coalescing window (DefaultNotifyWindow)
	Gap    time.Duration    // least time between popups of one kind (DefaultNotifyGap)
	Quiet  time.Duration    // after a server's first connect (DefaultNotifyQuiet)
	Now    func() time.Time // clock (time.Now)
}

// Notifier turns monitor updates and action results into desktop
// notifications. It is pure: it decides what to say and when, and Due hands
// out what is ready; Run or the caller delivers them.
//
// Events of one kind that arrive within Window of the first become one
// popup ("3 new sessions: alice, bob, carol"), and a kind pops up at most
// once per Gap; what arrives meanwhile is folded into the next popup.
// Sessions already playing when a server is first connected (within Quiet)
// are not announced as new, and a server that is lost and back (or back
// and lost again) before its popup was shown is not announced at all.
//
// All methods may be called from any goroutine.
type Notifier struct {
	opts NotifierOptions
	wake chan struct{} // tells Run that something was queued

	mu      sync.Mutex
	cfg     Notifications
	servers map[string]*notifyServer
	queues  [numNotifyKinds]notifyQueue
}

// notifyServer is what the Notifier remembers of a server's connection.
type notifyServer struct {
	status    ConnStatus
	connected time.Time // first time seen Connected; zero before
	lost      bool      // lost (or token rejected) and not back yet
	lostAt    time.Time // when it was lost, for "back after 2m"
	tokenTold bool      // "token rejected" was announced; again only after it worked
}

// notifyQueue holds the pending events of one kind.
type notifyQueue struct {
	items []notifyItem
	first time.Time // arrival of the oldest pending item
	sent  time.Time // last popup of this kind
}

// notifyItem is one event: its single-popup text and its line in a
// coalesced popup.
type notifyItem struct {
	key   string // session key or server name; a later item replaces an earlier one
	name  string // user or server, listed in a coalesced title
	title string // title when the popup holds this item alone
	body  string // body when alone
	line  string // body line when coalesced
	ok    bool   // for actions: the action achieved its aim
	// server, user and session name the session of a single-session
	// item; sticky keeps its popup until dismissed.
	server, user, session string
	sticky                bool
}

// NewNotifier returns a Notifier for the toggles cfg.
func NewNotifier(cfg Notifications, opts NotifierOptions) *Notifier {
	if opts.Window <= 0 {
		opts.Window = DefaultNotifyWindow
	}
	if opts.Gap <= 0 {
		opts.Gap = DefaultNotifyGap
	}
	if opts.Quiet <= 0 {
		opts.Quiet = DefaultNotifyQuiet
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Notifier{opts: opts, cfg: cfg, wake: make(chan struct{}, 1), servers: map[string]*notifyServer{}}
}

// SetConfig changes the toggles. Pending events of kinds switched off are
// dropped.
func (n *Notifier) SetConfig(cfg Notifications) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cfg = cfg
	for k := range n.queues {
		if !cfg.Has(NotifyKind(k)) {
			n.queues[k].items = nil
		}
	}
}

// Update records a monitor update: started sessions, sessions that began
// transcoding, and connection transitions (Connected → Reconnecting or
// Unreachable is "server lost", back to Connected is "server back", any
// state → Unauthorized is "token rejected").
func (n *Notifier) Update(up Update) {
	if up.Snapshot == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.opts.Now()
	sn := up.Snapshot
	srv := n.servers[sn.Server]
	if srv == nil {
		srv = &notifyServer{status: Connecting}
		n.servers[sn.Server] = srv
	}
	n.connTransition(srv, sn, now)

	quiet := srv.connected.IsZero() || now.Sub(srv.connected) < n.opts.Quiet
	for _, c := range up.Changes {
		s := c.Session
		if s.Kind == plex.KindPreroll || s.Kind == plex.KindTheme {
			continue
		}
		switch {
		case c.Kind == Started && !quiet:
			// A new session that transcodes is announced once, as a
			// transcode, unless transcode popups are off.
			if s.Transcoding() && n.cfg.TranscodeStarted {
				n.add(NotifyTranscode, transcodeItem(s), now)
			} else {
				n.add(NotifyNewSession, newSessionItem(s), now)
			}
		case c.Kind == Changed && c.Prev != nil && !c.Prev.Transcoding() && s.Transcoding():
			n.add(NotifyTranscode, transcodeItem(s), now)
		}
	}
}

// connTransition compares a server's new connection state with the last
// one and queues lost / back / token-rejected events.
func (n *Notifier) connTransition(srv *notifyServer, sn *Snapshot, now time.Time) {
	prev, cur := srv.status, sn.Conn.Status
	srv.status = cur
	if cur == Connected && srv.connected.IsZero() {
		srv.connected = now
	}
	if cur == Connected || cur == Stopped {
		srv.tokenTold = false
	}
	if prev == cur {
		return
	}
	switch {
	case cur == NoToken:
		n.add(NotifyTokenRejected, notifyItem{
			key:   sn.Server,
			name:  sn.Server,
			title: "No token for " + sn.Server,
			body:  "Plex Warden is not watching it. Sign in again, or add its token in Settings.",
			line:  sn.Server + ": " + sn.Conn.Line(now),

			server: sn.Server, sticky: true,
		}, now)
	case cur == Unauthorized:
		if !srv.lost {
			srv.lost, srv.lostAt = true, now
		}
		if srv.tokenTold {
			return // once per episode: the slow retries may pass through other states
		}
		srv.tokenTold = true
		n.add(NotifyTokenRejected, notifyItem{
			key:   sn.Server,
			name:  sn.Server,
			title: "Token rejected by " + sn.Server,
			body:  "Plex Warden keeps retrying, every few minutes. Sign in again or update the token in Settings if it persists.",
			line:  sn.Server + ": " + sn.Conn.Line(now),

			server: sn.Server, sticky: true,
		}, now)
	case prev == Connected && (cur == Reconnecting || cur == Unreachable):
		srv.lost, srv.lostAt = true, now
		if n.cancel(NotifyServerBack, sn.Server) {
			return // back and lost again before anyone was told it was back
		}
		n.add(NotifyServerLost, notifyItem{
			key:   sn.Server,
			name:  sn.Server,
			title: "Lost connection to " + sn.Server,
			body:  words.Capitalize(sn.Conn.Line(now)),
			line:  sn.Server + ": " + sn.Conn.Line(now),
		}, now)
	case cur == Connected && srv.lost:
		// The way back may pass through Connecting, so "lost" is remembered
		// rather than read from the previous status.
		srv.lost = false
		if n.cancel(NotifyServerLost, sn.Server) {
			return // a short drop nobody was told about
		}
		after := words.ShortDuration(now.Sub(srv.lostAt))
		n.add(NotifyServerBack, notifyItem{
			key:   sn.Server,
			name:  sn.Server,
			title: sn.Server + " is back",
			body:  "Connected again after " + after + ".",
			line:  sn.Server + ": connected again after " + after,
		}, now)
	case cur == Stopped:
		// Removed or shutting down: nothing to announce, and a server added
		// again starts afresh (its sessions then are not new).
		srv.lost, srv.connected = false, time.Time{}
	}
}

// Terminated records the result of terminating s; by says who asked
// ("you", or a rule's name).
func (n *Notifier) Terminated(s Session, by string, res Result) {
	n.action(s, "Terminated", "Could not terminate", by, res)
}

// TranscodeStopped records the result of stopping the transcode of s; by
// says who asked. It shares the Terminated toggle and queue.
func (n *Notifier) TranscodeStopped(s Session, by string, res Result) {
	n.action(s, "Transcode stopped", "Could not stop the transcode", by, res)
}

func (n *Notifier) action(s Session, done, failed, by string, res Result) {
	n.mu.Lock()
	defer n.mu.Unlock()
	what := s.User + " · " + s.Title
	title := done + ": " + what
	if !res.OK() {
		title = failed + ": " + what
	}
	body := actionBody(done, by, res)
	n.add(NotifyTerminated, notifyItem{
		key:   s.Key() + "|" + done,
		name:  s.User,
		title: title,
		body:  body,
		line:  what + ": " + body,
		ok:    res.OK(),

		server: s.Server, user: s.User, session: s.Key(), sticky: !res.OK(),
	}, n.opts.Now())
}

// Push queues a ready-made notification (from the rules engine or the
// diagnostics detector) under its kind's switch, coalescing and rate limit.
func (n *Notifier) Push(note Notification) {
	if note.Kind < 0 || note.Kind >= numNotifyKinds {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.add(note.Kind, notifyItem{key: note.Title, title: note.Title, body: note.Body, line: note.Title + ": " + note.Body, ok: true,
		server: note.Server, user: note.User, session: note.SessionKey, sticky: note.Sticky || note.Kind == NotifyDiagnostic}, n.opts.Now())
}

// add queues item for kind k if k is on. Called with mu held.
func (n *Notifier) add(k NotifyKind, item notifyItem, now time.Time) {
	if !n.cfg.Has(k) {
		return
	}
	q := &n.queues[k]
	for i := range q.items {
		if q.items[i].key == item.key {
			q.items[i] = item
			return
		}
	}
	if len(q.items) == 0 {
		q.first = now
	}
	q.items = append(q.items, item)
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// cancel removes the pending item with key from kind k and reports whether
// there was one. Called with mu held.
func (n *Notifier) cancel(k NotifyKind, key string) bool {
	q := &n.queues[k]
	for i := range q.items {
		if q.items[i].key == key {
			q.items = append(q.items[:i], q.items[i+1:]...)
			return true
		}
	}
	return false
}

// due returns when the pending items of q may be shown. Called with mu held.
func (n *Notifier) due(q *notifyQueue) time.Time {
	t := q.first.Add(n.opts.Window)
	if !q.sent.IsZero() {
		if g := q.sent.Add(n.opts.Gap); g.After(t) {
			t = g
		}
	}
	return t
}

// Due returns the notifications that are ready now, in kind order, and
// forgets them.
func (n *Notifier) Due() []Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.opts.Now()
	var out []Notification
	for k := range n.queues {
		q := &n.queues[k]
		if len(q.items) == 0 || now.Before(n.due(q)) {
			continue
		}
		out = append(out, compose(NotifyKind(k), q.items))
		q.items = nil
		q.sent = now
	}
	return out
}

// Next returns when the next notification will be ready; ok is false when
// nothing is pending.
func (n *Notifier) Next() (t time.Time, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for k := range n.queues {
		q := &n.queues[k]
		if len(q.items) == 0 {
			continue
		}
		if d := n.due(q); !ok || d.Before(t) {
			t, ok = d, true
		}
	}
	return t, ok
}

// Run delivers notifications with send until ctx ends. send runs on Run's
// goroutine and may block (Fyne's SendNotification waits for DBus on Linux);
// events keep being gathered meanwhile.
func (n *Notifier) Run(ctx context.Context, send func(Notification)) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		for _, x := range n.Due() {
			if ctx.Err() != nil {
				return
			}
			send(x)
		}
		wait := time.Hour
		if t, ok := n.Next(); ok {
			wait = max(t.Sub(n.opts.Now()), time.Millisecond)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		case <-timer.C:
		}
	}
}
