// Package alert delivers Plex Warden's notifications (app.Notifier decides
// what to say and when) to every place they go: desktop popups and the
// alert channels an admin sets up (ntfy, a webhook, email). Each channel
// has its own kind switches and rate limit and runs on its own goroutine,
// so a slow or failing channel never holds the others back. A new kind of
// channel is one file that registers its constructor (see ntfy.go) plus
// its fields in app.AlertChannel.
package alert

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

// Sender delivers one notification to one place. Send may block (network,
// D-Bus) up to ctx's deadline; its error says what went wrong in words.
type Sender interface {
	Send(ctx context.Context, n app.Notification) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, n app.Notification) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, n app.Notification) error { return f(ctx, n) }

// Channel is a Sender with its switches.
type Channel struct {
	Name      string            // as the admin named it, in messages
	Kinds     app.Notifications // which kinds go there
	PerMinute int               // at most this many sends a minute; 0: no limit
	Sender    Sender
}

// SendTimeout bounds one delivery.
const SendTimeout = 15 * time.Second

// queueLen is how many notifications wait for one channel before more are
// counted as dropped.
const queueLen = 32

// maxDroppedTitles bounds the titles listed in a rate-limit summary.
const maxDroppedTitles = 5

// Options configures a Dispatcher.
type Options struct {
	Log *slog.Logger
	// OnError is told when a channel fails to deliver (any goroutine).
	OnError func(channel string, err error)
	Now     func() time.Time // clock (time.Now)
}

// Dispatcher hands each notification to every channel that wants its kind.
// Create it with New, start it with Start; SetChannels may be called at any
// time (Settings changed).
type Dispatcher struct {
	opts Options

	mu      sync.Mutex
	ctx     context.Context // Start's; nil before
	workers []*worker
	status  map[string]string // channel → last failure in words, "" when the last send worked
	wg      sync.WaitGroup
}

// New returns a Dispatcher with no channels.
func New(opts Options) *Dispatcher {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Dispatcher{opts: opts, status: map[string]string{}}
}

// Start runs the channels' goroutines until ctx ends; Wait waits for them.
func (d *Dispatcher) Start(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ctx = ctx
	for _, w := range d.workers {
		d.startLocked(w)
	}
}

// Wait blocks until every channel goroutine ended (after Start's ctx).
func (d *Dispatcher) Wait() { d.wg.Wait() }

// SetChannels replaces the channels. Notifications queued for a replaced
// channel are dropped.
func (d *Dispatcher) SetChannels(chs []Channel) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, w := range d.workers {
		if w.cancel != nil {
			w.cancel()
		}
	}
	d.workers = d.workers[:0:0]
	for _, ch := range chs {
		w := &worker{d: d, ch: ch, in: make(chan app.Notification, queueLen)}
		d.workers = append(d.workers, w)
		if d.ctx != nil {
			d.startLocked(w)
		}
	}
}

func (d *Dispatcher) startLocked(w *worker) {
	ctx, cancel := context.WithCancel(d.ctx)
	w.cancel = cancel
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		w.run(ctx)
	}()
}

// Kinds returns the kinds any channel wants: what the Notifier must
// gather.
func (d *Dispatcher) Kinds() app.Notifications {
	d.mu.Lock()
	defer d.mu.Unlock()
	sets := make([]app.Notifications, 0, len(d.workers))
	for _, w := range d.workers {
		sets = append(sets, w.ch.Kinds)
	}
	return app.Union(sets...)
}

// Send queues n for every channel that wants its kind and returns at once
// (app.Notifier.Run's send).
func (d *Dispatcher) Send(n app.Notification) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, w := range d.workers {
		if !w.ch.Kinds.Has(n.Kind) {
			continue
		}
		select {
		case w.in <- n:
		default:
			w.overflow(n)
		}
	}
}

// Status is the last failure of the channel named name in words, or ""
// when its last delivery worked (or none was tried).
func (d *Dispatcher) Status(name string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status[name]
}

// report records the outcome of a delivery. A failure is logged once
// until the channel works again or fails differently (a desktop without a
// notification service must not fill the log every few seconds); OnError
// hears every failure.
func (d *Dispatcher) report(name string, err error) {
	d.mu.Lock()
	prev := d.status[name]
	if err == nil {
		delete(d.status, name)
	} else {
		d.status[name] = err.Error()
	}
	d.mu.Unlock()
	if err == nil {
		return
	}
	if err.Error() != prev {
		d.opts.Log.Warn("alert not delivered", "channel", name, "err", err)
	}
	if d.opts.OnError != nil {
		d.opts.OnError(name, err)
	}
}

// Test sends n through ch at once, past its switches and rate limit, and
// returns the error in words (Settings' "Send test").
func Test(ctx context.Context, ch Channel, n app.Notification) error {
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	if err := ch.Sender.Send(ctx, n); err != nil {
		return fmt.Errorf("%s: %w", ch.Name, err)
	}
	return nil
}

// worker delivers one channel's notifications in order, within its rate
// limit; what the limit holds back is counted and summed up in one message
// once the limit allows.
type worker struct {
	d      *Dispatcher
	ch     Channel
	in     chan app.Notification
	cancel context.CancelFunc

	mu      sync.Mutex // guards dropped and titles (Send's overflow and run)
	dropped int
	titles  []string

	sent []time.Time // run's goroutine only: sends within the last minute
}

// overflow counts n as dropped.
func (w *worker) overflow(n app.Notification) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dropped++
	if len(w.titles) < maxDroppedTitles {
		w.titles = append(w.titles, n.Title)
	}
}

func (w *worker) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-w.in:
			if !w.allow() {
				w.overflow(n)
				w.armSummary(timer)
				continue
			}
			w.flushSummary(ctx) // held-back ones first, if the limit has room for both
			if w.allow() {
				w.deliver(ctx, n)
			} else {
				w.overflow(n)
				w.armSummary(timer)
			}
		case <-timer.C:
			if !w.flushSummary(ctx) {
				w.armSummary(timer)
			}
		}
	}
}

// allow reports whether the rate limit has room for one more send now.
func (w *worker) allow() bool {
	if w.ch.PerMinute <= 0 {
		return true
	}
	cut := w.d.opts.Now().Add(-time.Minute)
	i := 0
	for i < len(w.sent) && !w.sent[i].After(cut) {
		i++
	}
	w.sent = w.sent[i:]
	return len(w.sent) < w.ch.PerMinute
}

// armSummary sets timer for when the oldest send leaves the window.
func (w *worker) armSummary(timer *time.Timer) {
	wait := time.Second
	if len(w.sent) > 0 {
		wait = max(w.sent[0].Add(time.Minute).Sub(w.d.opts.Now()), 10*time.Millisecond)
	}
	timer.Reset(wait)
}

// flushSummary sends the summary of dropped notifications if there are
// any and the limit allows; false means it is still pending.
func (w *worker) flushSummary(ctx context.Context) bool {
	w.mu.Lock()
	count, titles := w.dropped, w.titles
	w.mu.Unlock()
	if count == 0 {
		return true
	}
	if !w.allow() {
		return false
	}
	w.mu.Lock()
	w.dropped, w.titles = w.dropped-count, w.titles[len(titles):]
	w.mu.Unlock()
	w.deliver(ctx, Summary(count, titles))
	return true
}

// Summary is the message standing for count notifications a rate limit
// held back; titles are the first few of them.
func Summary(count int, titles []string) app.Notification {
	noun := "alert was"
	if count != 1 {
		noun = "alerts were"
	}
	body := strings.Join(titles, "\n")
	if more := count - len(titles); more > 0 {
		body += fmt.Sprintf("\nand %d more", more)
	}
	return app.Notification{Kind: app.NotifyDiagnostic, Title: fmt.Sprintf("%d %s not sent (rate limit)", count, noun), Body: body}
}

func (w *worker) deliver(ctx context.Context, n app.Notification) {
	w.sent = append(w.sent, w.d.opts.Now())
	sctx, cancel := context.WithTimeout(ctx, SendTimeout)
	err := w.ch.Sender.Send(sctx, n)
	cancel()
	if ctx.Err() != nil {
		return // stopping or replaced: not the channel's fault
	}
	w.d.report(w.ch.Name, err)
}
