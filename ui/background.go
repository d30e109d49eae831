package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
)

// background runs work off the UI goroutine, then the function work
// returns (nil for none) on the UI goroutine: the one way the UI makes a
// slow call (HTTP, disk, DBus) and shows its outcome. work's context ends
// with the UI's (Stop) and, when timeout > 0, after timeout. Tests wait
// for it through u.bg.
func (u *UI) background(timeout time.Duration, work func(ctx context.Context) (then func())) {
	u.backgroundWith(u.ctx, timeout, work)
}

// backgroundWith is background under the context parent, for work the UI
// may cancel by itself (a sign-in the user abandons).
func (u *UI) backgroundWith(parent context.Context, timeout time.Duration, work func(ctx context.Context) (then func())) {
	u.bg.Add(1)
	go func() {
		defer u.bg.Done()
		ctx, cancel := parent, context.CancelFunc(func() {})
		if timeout > 0 {
			ctx, cancel = context.WithTimeout(parent, timeout)
		}
		then := work(ctx)
		cancel()
		if then != nil {
			fyne.Do(then)
		}
	}()
}
