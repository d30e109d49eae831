package ui

import (
	"context"
	"errors"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
)

func TestBackground(t *testing.T) {
	test.NewTempApp(t)
	tests := []struct {
		name    string
		timeout time.Duration
		stop    bool // the UI stops while work runs
		want    error
	}{
		{"done before the timeout", time.Minute, false, nil},
		{"timeout ends the context", 20 * time.Millisecond, false, context.DeadlineExceeded},
		{"Stop ends the context", 0, true, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			u := &UI{ctx: ctx}
			var got error
			ran := false
			u.background(tt.timeout, func(ctx context.Context) func() {
				if tt.stop {
					cancel()
				}
				if tt.want != nil {
					select { // bounded: a context that never ends fails the test
					case <-ctx.Done():
					case <-time.After(2 * time.Second):
					}
				}
				err := ctx.Err()
				return func() { got, ran = err, true }
			})
			u.bg.Wait()
			if !ran || !errors.Is(got, tt.want) {
				t.Errorf("then ran %v with ctx.Err() = %v, want %v", ran, got, tt.want)
			}
		})
	}
}
