package plextv_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plextv"
	"github.com/plexwarden/plexwarden/plex/plextv/plextvsim"
)

func TestDecodeResources(t *testing.T) {
	home := plextv.Resource{
		Name: "Home", Product: "Plex Media Server", ProductVersion: "1.41.3", Platform: "Linux",
		ClientIdentifier: "abc123", Provides: "server", Owned: true, Presence: true, PublicAddress: "203.0.113.7",
		AccessToken: "srv-token",
		Connections: []plextv.Connection{
			{Protocol: "https", Address: "192.168.1.5", Port: 32400, URI: "https://192-168-1-5.0123abcd.plex.direct:32400", Local: true},
			{Protocol: "https", Address: "203.0.113.7", Port: 32400, URI: "https://203-0-113-7.0123abcd.plex.direct:32400"},
			{Protocol: "https", Address: "198.51.100.1", Port: 8443, URI: "https://198-51-100-1.0123abcd.plex.direct:8443", Relay: true},
		},
	}
	tests := []struct {
		name string
		body string
		want []plextv.Resource
	}{
		{"json", `[{"name":"Home","product":"Plex Media Server","productVersion":"1.41.3","platform":"Linux",
			"clientIdentifier":"abc123","provides":"server","ownerId":null,"sourceTitle":null,"publicAddress":"203.0.113.7",
			"accessToken":"srv-token","owned":true,"home":false,"synced":false,"relay":true,"presence":true,"httpsRequired":false,
			"connections":[
			 {"protocol":"https","address":"192.168.1.5","port":32400,"uri":"https://192-168-1-5.0123abcd.plex.direct:32400","local":true,"relay":false,"IPv6":false},
			 {"protocol":"https","address":"203.0.113.7","port":32400,"uri":"https://203-0-113-7.0123abcd.plex.direct:32400","local":false,"relay":false,"IPv6":false},
			 {"protocol":"https","address":"198.51.100.1","port":8443,"uri":"https://198-51-100-1.0123abcd.plex.direct:8443","local":false,"relay":true,"IPv6":false}]}]`,
			[]plextv.Resource{home}},
		{"json odd types", `[
			{"name":"Odd","clientIdentifier":12345,"provides":"server,client","owned":"1","home":1,"presence":"0",
			 "httpsRequired":"true","accessToken":null,"sourceTitle":"bob","publicAddress":42,
			 "connections":[
			  {"protocol":"HTTP","address":"10.0.0.2","port":"32400","uri":"http://10.0.0.2:32400/","local":"1","relay":0,"IPv6":"false"},
			  {"protocol":"http","address":"10.0.0.3","port":"32401.0","local":true},
			  {"protocol":"https","address":"::1","port":32400,"local":false,"IPv6":true},
			  {"protocol":"http"},
			  "not an object"]},
			"not a device",
			{"name":"Phone","provides":"player","clientIdentifier":"p1","owned":false,"connections":null}]`,
			[]plextv.Resource{
				{Name: "Odd", ClientIdentifier: "12345", Provides: "server,client", Owned: true, Home: true, HTTPSRequired: true,
					SourceTitle: "bob", PublicAddress: "42", Connections: []plextv.Connection{
						{Protocol: "http", Address: "10.0.0.2", Port: 32400, URI: "http://10.0.0.2:32400", Local: true},
						{Protocol: "http", Address: "10.0.0.3", Port: 32401, URI: "http://10.0.0.3:32401", Local: true},
						{Protocol: "https", Address: "::1", Port: 32400, URI: "https://[::1]:32400", IPv6: true},
					}},
				{},
				{Name: "Phone", Provides: "player", ClientIdentifier: "p1"},
			}},
		// The older XML form, as in Home Assistant's plextv_resources_one_server.xml.
		{"xml", `<?xml version="1.0" encoding="UTF-8"?>
<MediaContainer size="2">
  <Device name="Home" product="Plex Media Server" productVersion="1.41.3" platform="Linux" clientIdentifier="abc123"
    createdAt="1429510140" lastSeenAt="1605500006" provides="server" owned="1" accessToken="srv-token"
    publicAddress="203.0.113.7" httpsRequired="0" synced="0" relay="1" presence="1">
    <Connection protocol="https" address="192.168.1.5" port="32400" uri="https://192-168-1-5.0123abcd.plex.direct:32400" local="1"/>
    <Connection protocol="https" address="203.0.113.7" port="32400" uri="https://203-0-113-7.0123abcd.plex.direct:32400" local="0"/>
    <Connection protocol="https" address="198.51.100.1" port="8443" uri="https://198-51-100-1.0123abcd.plex.direct:8443" local="0" relay="1"/>
  </Device>
  <Device name="Chrome" product="Plex Web" clientIdentifier="plexweb_id" provides="client,player,pubsub-player" owned="1" presence="1">
    <Connection protocol="http" address="1.2.3.6" port="32500" local="1"/>
  </Device>
</MediaContainer>`,
			[]plextv.Resource{home, {Name: "Chrome", Product: "Plex Web", ClientIdentifier: "plexweb_id",
				Provides: "client,player,pubsub-player", Owned: true, Presence: true,
				Connections: []plextv.Connection{{Protocol: "http", Address: "1.2.3.6", Port: 32500, URI: "http://1.2.3.6:32500", Local: true}}}}},
		{"json media container", `{"MediaContainer":{"size":1,"Device":[{"name":"W","clientIdentifier":"w1","provides":"server","owned":true}]}}`,
			[]plextv.Resource{{Name: "W", ClientIdentifier: "w1", Provides: "server", Owned: true}}},
		{"empty", "  \n", nil},
		{"empty array", "[]", []plextv.Resource{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := plextv.DecodeResources([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeResources: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeResources =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestDecodeResourcesBroken(t *testing.T) {
	for _, body := range []string{`[{"name":`, `<MediaContainer><Device`, `nonsense`} {
		if _, err := plextv.DecodeResources([]byte(body)); !errors.Is(err, plex.ErrMalformed) {
			t.Errorf("DecodeResources(%q) error = %v, want ErrMalformed", body, err)
		}
	}
}

func TestServers(t *testing.T) {
	all := []plextv.Resource{
		{Name: "phone", Provides: "player", ClientIdentifier: "p", Owned: true},
		{Name: "friend", Provides: "server", ClientIdentifier: "f"},
		{Name: "mine", Provides: "client, server", ClientIdentifier: "m", Owned: true},
		{Name: "no id", Provides: "server", Owned: true},
		{Name: "friend2", Provides: "server", ClientIdentifier: "f2"},
		{Name: "mine2", Provides: "server", ClientIdentifier: "m2", Owned: true},
	}
	var got []string
	for _, r := range plextv.Servers(all) {
		got = append(got, r.Name)
	}
	if want := []string{"mine", "mine2", "friend", "friend2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Servers = %v, want %v", got, want)
	}
}

func TestResourcesFromPlexTV(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		name := "json"
		if legacy {
			name = "legacy xml"
		}
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			sim := startTV(t, plextvsim.Options{LegacyXML: legacy})
			const account = "acct-Zk81"
			sim.AddToken(account)
			sim.AddServer(plextvsim.ResourceSpec{Name: "Friend's", MachineID: "friend-1", AccessToken: "shared-tok", SourceTitle: "bob",
				Connections: []plextvsim.ConnSpec{{URI: "http://10.9.9.9:32400", Local: true}, {URI: "https://10-1-1-1.ffff.plex.direct:32400"}}})
			sim.AddServer(plextvsim.ResourceSpec{Name: "Phone", MachineID: "phone-1", Provides: "player,controller", Owned: true})
			sim.AddServer(plextvsim.ResourceSpec{Name: "Home", MachineID: "home-1", Owned: true, AccessToken: "owner-tok",
				Connections: []plextvsim.ConnSpec{
					{URI: "http://192.168.1.5:32400", Local: true},
					{URI: "https://192-168-1-5.0123abcd.plex.direct:32400", Local: true},
					{URI: "https://198-51-100-1.0123abcd.plex.direct:8443", Relay: true},
				}})
			c := newClient(t, sim)
			got, err := c.Resources(ctx, account)
			if err != nil {
				t.Fatalf("Resources: %v", err)
			}
			if len(got) != 2 || got[0].Name != "Home" || got[1].Name != "Friend's" {
				t.Fatalf("Resources = %+v, want Home then Friend's", got)
			}
			h := got[0]
			if h.ClientIdentifier != "home-1" || !h.Owned || h.AccessToken != "owner-tok" || !h.Presence || len(h.Connections) != 3 {
				t.Errorf("Home = %+v", h)
			}
			wantConns := []plextv.Connection{
				{Protocol: "http", Address: "192.168.1.5", Port: 32400, URI: "http://192.168.1.5:32400", Local: true},
				{Protocol: "https", Address: "192.168.1.5", Port: 32400, URI: "https://192-168-1-5.0123abcd.plex.direct:32400", Local: true},
				{Protocol: "https", Address: "198.51.100.1", Port: 8443, URI: "https://198-51-100-1.0123abcd.plex.direct:8443", Relay: true},
			}
			if !reflect.DeepEqual(h.Connections, wantConns) {
				t.Errorf("Home connections =\n%+v\nwant\n%+v", h.Connections, wantConns)
			}
			if f := got[1]; f.Owned || f.AccessToken != "shared-tok" || f.SourceTitle != "bob" {
				t.Errorf("Friend's = %+v", f)
			}
			reqs := sim.Requests()
			if len(reqs) != 1 {
				t.Fatalf("plex.tv saw %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Path != "/api/v2/resources" || r.RawQuery != "includeHttps=1&includeRelay=1" {
				t.Errorf("request = %s?%s, want /api/v2/resources?includeHttps=1&includeRelay=1", r.Path, r.RawQuery)
			}
			if r.Header.Get("X-Plex-Token") != account || r.TokenInQuery || strings.Contains(r.RawQuery, account) {
				t.Errorf("the account token must travel in the X-Plex-Token header only (query %q)", r.RawQuery)
			}
		})
	}
}

func TestResourcesRejectedToken(t *testing.T) {
	ctx := testCtx(t)
	sim := startTV(t, plextvsim.Options{})
	sim.AddToken("good")
	c := newClient(t, sim)
	const bad = "bad-token-Q1w2"
	_, err := c.Resources(ctx, bad)
	var apiErr *plextv.APIError
	var pe *plex.Error
	switch {
	case !errors.Is(err, plex.ErrUnauthorized):
		t.Fatalf("Resources with a bad token: %v, want ErrUnauthorized", err)
	case !errors.As(err, &apiErr) || apiErr.Code != plextv.CodeNotAuthenticated || apiErr.Status != 401 || apiErr.Message == "":
		t.Errorf("APIError = %+v, want code 1001, status 401 and plex.tv's message", apiErr)
	case !errors.As(err, &pe) || pe.Op != "list servers" || pe.Status != 401:
		t.Errorf("plex.Error = %+v, want op \"list servers\" and status 401", pe)
	}
	if strings.Contains(err.Error(), bad) {
		t.Errorf("error text leaks the token: %v", err)
	}
}

func TestUser(t *testing.T) {
	ctx := testCtx(t)
	sim := startTV(t, plextvsim.Options{Username: "alice"})
	sim.AddToken("good")
	c := newClient(t, sim)
	u, err := c.User(ctx, "good")
	if err != nil || u.Username != "alice" || u.ID == 0 {
		t.Errorf("User(good) = %+v, %v; want alice", u, err)
	}
	if _, err := c.User(ctx, "nope"); !errors.Is(err, plex.ErrUnauthorized) {
		t.Errorf("User(nope) = %v, want ErrUnauthorized", err)
	}
	sim.FailNext(503, 1)
	if _, err := c.User(ctx, "good"); err == nil || errors.Is(err, plex.ErrUnauthorized) || !errors.Is(err, plex.ErrServer) {
		t.Errorf("User during an outage = %v, want ErrServer and not ErrUnauthorized (a 503 proves nothing about the token)", err)
	}
}

func TestErrorAnswers(t *testing.T) {
	const token = "tok-SECRET-99"
	tests := []struct {
		name     string
		status   int
		body     string
		want     error
		wantCode int
		wantMsg  string
	}{
		{"json 401", 401, `{"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]}`, plex.ErrUnauthorized, 1001, "User could not be authenticated"},
		{"json 404 pin", 404, `{"errors":[{"code":1020,"message":"Code not found or expired","status":404}]}`, plextv.ErrPINExpired, 1020, "Code not found or expired"},
		{"json odd types", 422, `{"errors":[{"code":"1004","message":"Invalid field","status":"422"}]}`, plex.ErrBadRequest, 1004, "Invalid field"},
		{"xml attrs", 401, `<?xml version="1.0"?><errors><error code="1001" message="Invalid token" status="401"/></errors>`, plex.ErrUnauthorized, 1001, "Invalid token"},
		{"xml text", 401, `<errors><error>Invalid authentication token.</error></errors>`, plex.ErrUnauthorized, 0, "Invalid authentication token."},
		{"message quoting the token", 400, `{"errors":[{"code":1000,"message":"bad token ` + token + `","status":400}]}`, plex.ErrBadRequest, 1000, "bad token [token]"},
		{"html 502", 502, `<html><body>Bad gateway</body></html>`, plex.ErrServer, 0, ""},
		{"empty 401", 401, ``, plex.ErrUnauthorized, 0, ""},
		{"empty 403", 403, ``, plex.ErrForbidden, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := &plextv.Client{BaseURL: srv.URL, Info: testInfo, HTTPClient: loopbackClient(t)}
			_, err := c.User(testCtx(t), token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			var apiErr *plextv.APIError
			hasAPI := errors.As(err, &apiErr)
			if tt.wantCode != 0 || tt.wantMsg != "" {
				if !hasAPI || apiErr.Code != tt.wantCode || apiErr.Message != tt.wantMsg || apiErr.Status != tt.status {
					t.Errorf("APIError = %+v, want code %d, message %q, status %d", apiErr, tt.wantCode, tt.wantMsg, tt.status)
				}
			} else if hasAPI {
				t.Errorf("got APIError %+v for a body that is not plex.tv's error document", apiErr)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error text leaks the token: %v", err)
			}
		})
	}
}

func TestTransportErrors(t *testing.T) {
	ctx := testCtx(t)
	c := &plextv.Client{BaseURL: "http://127.0.0.1:" + closedPort(t), Info: testInfo, HTTPClient: loopbackClient(t)}
	if _, err := c.CreatePIN(ctx); !errors.Is(err, plex.ErrUnreachable) {
		t.Errorf("CreatePIN against a closed port = %v, want ErrUnreachable", err)
	}
	c = &plextv.Client{BaseURL: "http://127.0.0.1:" + hangingServer(t), Info: testInfo, HTTPClient: loopbackClient(t), Timeout: 200 * time.Millisecond}
	if _, err := c.User(ctx, "tok"); !errors.Is(err, plex.ErrTimeout) {
		t.Errorf("User against a silent server = %v, want ErrTimeout", err)
	}
	c = &plextv.Client{BaseURL: "ftp://plex.tv", Info: testInfo}
	if _, err := c.CreatePIN(ctx); err == nil {
		t.Error("CreatePIN with an ftp base URL succeeded")
	}
}
