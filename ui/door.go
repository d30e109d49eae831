package ui

import (
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
)

// door is the one way in for one kind of value (states, local scans,
// diagnostics signals): post may be called from any goroutine and never
// blocks; values posted faster than the UI applies them are coalesced, only
// the newest is applied, and applies are at least interval apart. apply
// runs on the UI goroutine. Post, PostLocal and PostDiag are doors.
type door[T any] struct {
	apply    func(*T)
	interval time.Duration
	bg       *sync.WaitGroup // the UI's: tests wait for delayed hand-overs

	// The newest value, whether a drain is scheduled, and when the last one
	// ran (unix nanoseconds).
	pending   atomic.Pointer[T]
	scheduled atomic.Bool
	last      atomic.Int64
}

// post hands v over (any goroutine). v must not be modified afterwards.
func (d *door[T]) post(v *T) {
	if v == nil {
		return
	}
	d.pending.Store(v)
	if d.scheduled.CompareAndSwap(false, true) {
		d.schedule()
	}
}

// schedule queues drain on the UI goroutine, delayed so that applies are at
// least interval apart. Exactly one drain is outstanding while scheduled
// is true.
func (d *door[T]) schedule() {
	wait := d.interval - time.Duration(time.Now().UnixNano()-d.last.Load())
	if wait <= 0 {
		fyne.Do(d.drain)
		return
	}
	d.bg.Add(1)
	time.AfterFunc(wait, func() {
		defer d.bg.Done()
		fyne.Do(d.drain)
	})
}

// drain applies the newest posted value (UI goroutine).
func (d *door[T]) drain() {
	d.last.Store(time.Now().UnixNano())
	if v := d.pending.Swap(nil); v != nil {
		d.apply(v)
	}
	d.scheduled.Store(false)
	// A post that came in after the Swap saw scheduled == true and left its
	// value for us: schedule once more.
	if d.pending.Load() != nil && d.scheduled.CompareAndSwap(false, true) {
		d.schedule()
	}
}
