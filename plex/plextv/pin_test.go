package plextv_test

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plextv"
	"github.com/plexwarden/plexwarden/plex/plextv/plextvsim"
)

// pollResult is what a PollPIN goroutine returns.
type pollResult struct {
	token string
	err   error
}

// pollAsync runs PollPIN in the background.
func pollAsync(ctx context.Context, c *plextv.Client, pin *plextv.PIN, every time.Duration) <-chan pollResult {
	ch := make(chan pollResult, 1)
	go func() {
		tok, err := c.PollPIN(ctx, pin, every)
		ch <- pollResult{tok, err}
	}()
	return ch
}

// waitPolls waits until sim has seen n polls of pin.
func waitPolls(t *testing.T, sim *plextvsim.Server, pin *plextv.PIN, n int) {
	t.Helper()
	path := "/api/v2/pins/" + strconv.FormatInt(pin.ID, 10)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		got := 0
		for _, r := range sim.Requests() {
			if r.Path == path {
				got++
			}
		}
		if got >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("plex.tv saw fewer than %d polls of PIN %d", n, pin.ID)
}

func TestSignInEndToEnd(t *testing.T) {
	ctx := testCtx(t)
	sim := startTV(t, plextvsim.Options{})
	c := newClient(t, sim)

	before := time.Now()
	pin, err := c.CreatePIN(ctx)
	if err != nil {
		t.Fatalf("CreatePIN: %v", err)
	}
	if pin.ID == 0 || len(pin.Code) != 25 || pin.ExpiresIn != 1800 || pin.ClientIdentifier != testInfo.ID {
		t.Errorf("PIN = %+v, want an id, a 25-character code, 1800 s and client id %q", pin, testInfo.ID)
	}
	if want := before.Add(30 * time.Minute); pin.ExpiresAt.Before(want) || pin.ExpiresAt.After(want.Add(time.Minute)) {
		t.Errorf("ExpiresAt = %v, want about %v", pin.ExpiresAt, want)
	}

	polled := pollAsync(ctx, c, pin, 10*time.Millisecond)
	waitPolls(t, sim, pin, 2) // plex.tv answered authToken null at least twice
	const account = "account-token-7Qe9"
	if err := sim.ApproveURL(c.AuthURL(pin), account); err != nil {
		t.Fatalf("approving %s: %v", c.AuthURL(pin), err)
	}
	res := <-polled
	if res.err != nil || res.token != account {
		t.Fatalf("PollPIN = %q, %v; want %q", res.token, res.err, account)
	}

	// Hygiene: one client id for create and every poll, no token anywhere.
	reqs := sim.Requests()
	if len(reqs) < 3 {
		t.Fatalf("plex.tv saw %d requests, want a create and at least 2 polls", len(reqs))
	}
	if r := reqs[0]; r.Method != "POST" || r.Path != "/api/v2/pins" || r.RawQuery != "strong=true" {
		t.Errorf("first request = %s %s?%s, want POST /api/v2/pins?strong=true", r.Method, r.Path, r.RawQuery)
	}
	for i, r := range reqs {
		if got := r.Header.Get("X-Plex-Client-Identifier"); got != testInfo.ID {
			t.Errorf("request %d (%s %s): client id %q, want %q", i, r.Method, r.Path, got, testInfo.ID)
		}
		if got := r.Header.Get("X-Plex-Product"); got != "Plex Warden" {
			t.Errorf("request %d: X-Plex-Product %q", i, got)
		}
		if r.Header.Get("X-Plex-Token") != "" || r.TokenInQuery {
			t.Errorf("request %d (%s %s) carries a token; PIN calls must not", i, r.Method, r.Path)
		}
		if !strings.Contains(r.Header.Get("Accept"), "application/json") {
			t.Errorf("request %d: Accept %q, want JSON", i, r.Header.Get("Accept"))
		}
		if i > 0 && (r.Method != "GET" || r.Path != "/api/v2/pins/"+strconv.FormatInt(pin.ID, 10) || r.RawQuery != "") {
			t.Errorf("poll %d = %s %s?%s", i, r.Method, r.Path, r.RawQuery)
		}
	}
}

func TestAuthURL(t *testing.T) {
	tests := []struct {
		name    string
		info    plex.ClientInfo
		code    string
		want    string
		product string // as the auth page decodes it
	}{
		{"plain", plex.ClientInfo{ID: "abc-123", Product: "Plex Warden"}, "k3yc0de",
			"https://app.plex.tv/auth#?clientID=abc-123&code=k3yc0de&context%5Bdevice%5D%5Bproduct%5D=Plex%20Warden", "Plex Warden"},
		{"default product", plex.ClientInfo{ID: "abc-123"}, "k3yc0de",
			"https://app.plex.tv/auth#?clientID=abc-123&code=k3yc0de&context%5Bdevice%5D%5Bproduct%5D=Plex%20Warden", "Plex Warden"},
		{"reserved characters", plex.ClientInfo{ID: "a&b=c", Product: "W+ & Co"}, "x y",
			"https://app.plex.tv/auth#?clientID=a%26b%3Dc&code=x%20y&context%5Bdevice%5D%5Bproduct%5D=W%2B%20%26%20Co", "W+ & Co"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &plextv.Client{Info: tt.info}
			got := c.AuthURL(&plextv.PIN{ID: 1, Code: tt.code})
			if got != tt.want {
				t.Errorf("AuthURL = %s\n                  want %s", got, tt.want)
			}
			// Decode as the page does (decodeURIComponent: "+" stays "+").
			frag := got[strings.Index(got, "#?")+2:]
			for _, kv := range strings.Split(frag, "&") {
				k, v, _ := strings.Cut(kv, "=")
				if k == "context%5Bdevice%5D%5Bproduct%5D" {
					if p, _ := url.PathUnescape(v); p != tt.product {
						t.Errorf("product decodes to %q, want %q", p, tt.product)
					}
				}
			}
		})
	}
}

func TestPollPINEnds(t *testing.T) {
	tests := []struct {
		name     string
		opts     plextvsim.Options
		poller   string // client id that polls; "" = the creator's
		act      func(sim *plextvsim.Server, pin *plextv.PIN, cancel context.CancelFunc)
		wantTok  string
		wantErr  error
		wantCode int // plex.tv error code the error must carry; 0: not checked
	}{
		{name: "expired on plex.tv", act: func(sim *plextvsim.Server, pin *plextv.PIN, _ context.CancelFunc) { _ = sim.Expire(pin.ID) },
			wantErr: plextv.ErrPINExpired, wantCode: plextv.CodePINExpired},
		{name: "short lifetime", opts: plextvsim.Options{PINLifetime: 1 * time.Second}, wantErr: plextv.ErrPINExpired},
		{name: "cancelled", act: func(_ *plextvsim.Server, _ *plextv.PIN, cancel context.CancelFunc) { cancel() }, wantErr: context.Canceled},
		{name: "polled with another client id", opts: plextvsim.Options{PINLifetime: 1 * time.Second}, poller: "someone-else",
			act: func(sim *plextvsim.Server, pin *plextv.PIN, _ context.CancelFunc) { _ = sim.Claim(pin.ID, "tok") }, wantErr: plextv.ErrPINExpired},
		{name: "server errors are retried", act: func(sim *plextvsim.Server, pin *plextv.PIN, _ context.CancelFunc) {
			sim.FailNext(503, 3)
			_ = sim.Claim(pin.ID, "late-token")
		}, wantTok: "late-token"},
		{name: "rate limit is retried", act: func(sim *plextvsim.Server, pin *plextv.PIN, _ context.CancelFunc) {
			sim.FailNext(429, 2)
			_ = sim.Claim(pin.ID, "slow-token")
		}, wantTok: "slow-token"},
		{name: "refused request ends", act: func(sim *plextvsim.Server, _ *plextv.PIN, _ context.CancelFunc) { sim.FailNext(400, 1) },
			wantErr: plex.ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := startTV(t, tt.opts)
			c := newClient(t, sim)
			ctx, cancel := context.WithCancel(testCtx(t))
			defer cancel()
			pin, err := c.CreatePIN(ctx)
			if err != nil {
				t.Fatal(err)
			}
			poller := c
			if tt.poller != "" {
				other := *c
				other.Info.ID = tt.poller
				poller = &other
			}
			start := time.Now()
			polled := pollAsync(ctx, poller, pin, 10*time.Millisecond)
			waitPolls(t, sim, pin, 1)
			if tt.act != nil {
				tt.act(sim, pin, cancel)
			}
			var res pollResult
			select {
			case res = <-polled:
			case <-time.After(10 * time.Second):
				t.Fatal("PollPIN did not return")
			}
			if res.token != tt.wantTok || !errors.Is(res.err, tt.wantErr) {
				t.Fatalf("PollPIN = %q, %v; want %q, %v", res.token, res.err, tt.wantTok, tt.wantErr)
			}
			if tt.wantErr == context.Canceled && res.err != context.Canceled {
				t.Errorf("cancelled PollPIN returned %#v, want ctx.Err() itself", res.err)
			}
			var apiErr *plextv.APIError
			if tt.wantCode != 0 && (!errors.As(res.err, &apiErr) || apiErr.Code != tt.wantCode) {
				t.Errorf("error %v: want plex.tv error code %d", res.err, tt.wantCode)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("PollPIN took %v", d)
			}
		})
	}
}

func TestCreatePINWithoutClientID(t *testing.T) {
	ctx := testCtx(t)
	sim := startTV(t, plextvsim.Options{})
	c := newClient(t, sim)
	c.Info.ID = ""
	_, err := c.CreatePIN(ctx)
	var apiErr *plextv.APIError
	if !errors.Is(err, plex.ErrBadRequest) || !errors.As(err, &apiErr) || apiErr.Status != 400 || !strings.Contains(apiErr.Message, "X-Plex-Client-Identifier") {
		t.Errorf("CreatePIN without a client id: %v, want a 400 naming X-Plex-Client-Identifier", err)
	}
}

func TestApproveURLChecksClientID(t *testing.T) {
	ctx := testCtx(t)
	sim := startTV(t, plextvsim.Options{})
	c := newClient(t, sim)
	pin, err := c.CreatePIN(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := *c
	other.Info.ID = "another-install"
	if err := sim.ApproveURL(other.AuthURL(pin), "tok"); !errors.Is(err, plextvsim.ErrWrongClient) {
		t.Errorf("approving with another clientID: %v, want ErrWrongClient", err)
	}
	plus := strings.Replace(c.AuthURL(pin), "%20", "+", 1)
	if err := sim.ApproveURL(plus, "tok"); !errors.Is(err, plextvsim.ErrBadAuthURL) {
		t.Errorf("approving a URL with '+' for space: %v, want ErrBadAuthURL (the page would show \"Plex+Warden\")", err)
	}
	if err := sim.ApproveURL(c.AuthURL(pin), "tok"); err != nil {
		t.Errorf("approving our own URL: %v", err)
	}
}
