package plextvsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plexwarden/plexwarden/plex/plextv/plextvsim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T, opts plextvsim.Options) *plextvsim.Server {
	t.Helper()
	s := plextvsim.New(opts)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// call sends one request and returns the status and body.
func call(t *testing.T, method, url string, hdr map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestWireFormat(t *testing.T) {
	s := start(t, plextvsim.Options{})
	s.AddToken("acct")
	s.AddServer(plextvsim.ResourceSpec{Name: "Home", MachineID: "home-1", Owned: true, AccessToken: "srv",
		Connections: []plextvsim.ConnSpec{
			{URI: "http://10.0.0.5:32400", Local: true},
			{URI: "https://10-0-0-5.abc.plex.direct:32400", Local: true},
			{URI: "https://198-51-100-1.abc.plex.direct:8443", Relay: true},
		}})
	jsonHdr := map[string]string{"Accept": "application/json", "X-Plex-Client-Identifier": "cid", "X-Plex-Product": "Plex Warden"}
	tests := []struct {
		name       string
		method     string
		path       string
		hdr        map[string]string
		wantStatus int
		wantBody   []string
		notBody    []string
	}{
		{"pin without client id", "POST", "/api/v2/pins?strong=true", map[string]string{"Accept": "application/json"}, 400,
			[]string{`"code":1000`, "X-Plex-Client-Identifier"}, nil},
		{"pin created", "POST", "/api/v2/pins?strong=true", jsonHdr, 201,
			[]string{`"id":1000`, `"authToken":null`, `"expiresIn":1800`, `"clientIdentifier":"cid"`}, nil},
		{"pin polled", "GET", "/api/v2/pins/1000", jsonHdr, 200, []string{`"authToken":null`}, nil},
		{"unknown pin", "GET", "/api/v2/pins/99", jsonHdr, 404, []string{`"code":1020`}, nil},
		{"pin wrong method", "DELETE", "/api/v2/pins", jsonHdr, 405, nil, nil},
		{"user without token", "GET", "/api/v2/user", jsonHdr, 401, []string{`"code":1001`, `"status":401`}, nil},
		{"resources without token", "GET", "/api/v2/resources", jsonHdr, 401, []string{`"code":1001`}, nil},
		{"resources, no https, no relay", "GET", "/api/v2/resources", map[string]string{"Accept": "application/json", "X-Plex-Token": "acct"}, 200,
			[]string{`"clientIdentifier":"home-1"`, `"uri":"http://10.0.0.5:32400"`, `"owned":true`, `"ownerId":null`},
			[]string{"plex.direct"}},
		{"resources, all", "GET", "/api/v2/resources?includeHttps=1&includeRelay=1", map[string]string{"Accept": "application/json", "X-Plex-Token": "acct"}, 200,
			[]string{`"address":"10.0.0.5"`, `"address":"198.51.100.1"`, `"relay":true`, `"port":8443`}, nil},
		{"resources as XML", "GET", "/api/v2/resources?includeHttps=1&includeRelay=1", map[string]string{"X-Plex-Token": "acct"}, 200,
			[]string{`<MediaContainer size="1">`, `<Device name="Home"`, `owned="1"`, `relay="1"`}, nil},
		{"unknown path", "GET", "/api/v2/nothing", jsonHdr, 404, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, tt.method, s.URL()+tt.path, tt.hdr)
			if status != tt.wantStatus {
				t.Errorf("status %d, want %d (%s)", status, tt.wantStatus, body)
			}
			for _, w := range tt.wantBody {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %s:\n%s", w, body)
				}
			}
			for _, w := range tt.notBody {
				if strings.Contains(body, w) {
					t.Errorf("body contains %s:\n%s", w, body)
				}
			}
		})
	}
}

func TestClaimAndExpire(t *testing.T) {
	s := start(t, plextvsim.Options{})
	hdr := map[string]string{"Accept": "application/json", "X-Plex-Client-Identifier": "cid", "X-Plex-Product": "Plex Warden"}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	if _, err := s.WaitPIN(short, 1); err != context.DeadlineExceeded {
		t.Errorf("WaitPIN before any PIN = %v, want the context's deadline", err)
	}
	call(t, "POST", s.URL()+"/api/v2/pins", hdr)
	p, err := s.WaitPIN(ctx, 1)
	if err != nil || len(p.Code) != 4 || p.Strong || p.ClientID != "cid" || p.Product != "Plex Warden" {
		t.Fatalf("WaitPIN = %+v, %v; want a 4-character PIN of cid", p, err)
	}
	if err := s.Claim(p.ID, "acct"); err != nil {
		t.Fatal(err)
	}
	var got struct{ AuthToken *string }
	_, body := call(t, "GET", s.URL()+"/api/v2/pins/1000", hdr)
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.AuthToken == nil || *got.AuthToken != "acct" {
		t.Errorf("claimed PIN = %s, want authToken acct", body)
	}
	other := map[string]string{"Accept": "application/json", "X-Plex-Client-Identifier": "someone-else"}
	if _, body := call(t, "GET", s.URL()+"/api/v2/pins/1000", other); !strings.Contains(body, `"authToken":null`) {
		t.Errorf("another client id polling sees %s, want authToken null", body)
	}
	if status, _ := call(t, "GET", s.URL()+"/api/v2/user", map[string]string{"X-Plex-Token": "acct"}); status != 200 {
		t.Errorf("the claimed token is refused by /api/v2/user: %d", status)
	}
	if err := s.Expire(p.ID); err != nil {
		t.Fatal(err)
	}
	if status, _ := call(t, "GET", s.URL()+"/api/v2/pins/1000", hdr); status != 404 {
		t.Errorf("expired PIN answered %d, want 404", status)
	}
	if err := s.Claim(p.ID, "x"); err != plextvsim.ErrExpired {
		t.Errorf("Claim of an expired PIN = %v, want ErrExpired", err)
	}
	if err := s.Claim(4, "x"); err != plextvsim.ErrUnknownPIN {
		t.Errorf("Claim of an unknown PIN = %v, want ErrUnknownPIN", err)
	}
	if err := s.Close(); err != nil || s.Close() != nil || !errors.Is(s.Start("127.0.0.1:0"), plextvsim.ErrClosed) {
		t.Error("Close is not idempotent or Start after Close did not fail")
	}
}
