package ui

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
)

func TestWatchTrayHostLateHost(t *testing.T) {
	a := test.NewTempApp(t)
	u := New(a, newFakeBackend(), Options{Now: func() time.Time { return testNow }})
	t.Cleanup(func() { u.Stop(); u.bg.Wait() })
	u.apply(fixedState())
	if !strings.Contains(test.RenderObjectToMarkup(u.Window().Content()), "No system tray found") {
		t.Fatal("no notice while no tray host is known")
	}
	var calls atomic.Int32
	avail := func() bool { return calls.Add(1) >= 3 } // the panel shows up on the third look
	u.WatchTrayHost(context.Background(), avail, time.Millisecond, time.Second)
	if got := calls.Load(); got != 3 {
		t.Errorf("asked %d times, want 3", got)
	}
	if !u.opts.TrayHost {
		t.Error("TrayHost still false after the host appeared")
	}
	if strings.Contains(test.RenderObjectToMarkup(u.Window().Content()), "No system tray found") {
		t.Error("the notice is still shown after the host appeared")
	}
}

func TestWatchTrayHostGivesUp(t *testing.T) {
	a := test.NewTempApp(t)
	u := New(a, newFakeBackend(), Options{})
	t.Cleanup(func() { u.Stop(); u.bg.Wait() })
	start := time.Now()
	u.WatchTrayHost(context.Background(), func() bool { return false }, time.Millisecond, 50*time.Millisecond)
	if d := time.Since(start); d > time.Second {
		t.Errorf("WatchTrayHost ran %s past its 50ms limit", d)
	}
	if u.opts.TrayHost {
		t.Error("TrayHost true without a host")
	}
}
