package app

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

// TestHubReplaceKeepsOrderAndWaitsForCompanions: replacing a server keeps
// its place in the list (the window and tray do not reshuffle when a
// server moves to another address), and Remove returns only after the
// server's companions have ended.
func TestHubReplaceKeepsOrderAndWaitsForCompanions(t *testing.T) {
	h := NewHub()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); h.Wait() }()
	start := func(name string, companions ...func(context.Context)) {
		h.Start(ctx, NewMonitor(MonitorConfig{Server: name, Source: &fakeSource{}, Reconcile: time.Hour}), nil, companions...)
	}
	for _, n := range []string{"Den", "Cabin", "Attic"} {
		start(n)
	}
	var ended atomic.Bool
	start("Cabin", func(ctx context.Context) {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // a companion that takes a moment to stop
		ended.Store(true)
	})
	if got, want := h.Servers(), []string{"Den", "Cabin", "Attic"}; !reflect.DeepEqual(got, want) {
		t.Errorf("servers after replacing Cabin = %v, want %v", got, want)
	}
	h.Remove("Cabin")
	if !ended.Load() {
		t.Error("Remove returned before Cabin's companion ended")
	}
	if got, want := h.Servers(), []string{"Den", "Attic"}; !reflect.DeepEqual(got, want) {
		t.Errorf("servers after removing Cabin = %v, want %v", got, want)
	}
}
