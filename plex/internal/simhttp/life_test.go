package simhttp

import (
	"errors"
	"io"
	"net/http"
	"testing"

	"go.uber.org/goleak"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestLife walks the lifecycle: serve, restart on the same address, close
// twice, and the errors of the wrong order, leaving no goroutine behind.
func TestLife(t *testing.T) {
	defer goleak.VerifyNone(t)
	l := &Life{Name: "sim"}
	if err := l.Restart(nil); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Restart before Start = %v, want ErrNotStarted", err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	if err := l.Start("127.0.0.1:0", h); err != nil {
		t.Fatal(err)
	}
	if err := l.Start("127.0.0.1:0", h); !errors.Is(err, ErrStarted) || err.Error() != "sim: server already started" {
		t.Errorf("second Start = %v, want sim: %v", err, ErrStarted)
	}
	addr := l.Addr()
	if code, body := get(t, "http://"+addr); code != 200 || body != "ok" {
		t.Errorf("GET = %d %q, want 200 \"ok\"", code, body)
	}
	ran := 0
	if err := l.Restart(func() { ran++ }); err != nil {
		t.Fatal(err)
	}
	if got := l.Addr(); got != addr {
		t.Errorf("address after Restart = %s, want %s", got, addr)
	}
	if code, _ := get(t, "http://"+addr); code != 200 {
		t.Errorf("GET after Restart = %d, want 200", code)
	}
	if !l.Close(func() { ran++ }) || l.Close(func() { ran++ }) {
		t.Error("Close: want true once, then false")
	}
	if ran != 2 {
		t.Errorf("beforeStop ran %d times, want 2 (restart, first close)", ran)
	}
	if code, _ := get(t, "http://"+addr); code != 0 {
		t.Errorf("GET after Close answered %d, want no answer", code)
	}
	if err := l.Start("127.0.0.1:0", h); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close = %v, want ErrClosed", err)
	}
	http.DefaultClient.CloseIdleConnections()
}
