package plextv

import (
	"reflect"
	"testing"
)

func TestPreference(t *testing.T) {
	tests := []struct {
		name string
		c    Connection
		want int
	}{
		{"local https", Connection{URI: "https://192-168-1-5.h.plex.direct:32400", Local: true}, 0},
		{"local http", Connection{URI: "http://192.168.1.5:32400", Local: true}, 1},
		{"remote plex.direct", Connection{URI: "https://203-0-113-7.h.plex.direct:32400"}, 2},
		{"remote https other name", Connection{URI: "https://plex.example.com:443"}, 4},
		{"remote http", Connection{URI: "http://203.0.113.7:32400"}, 5},
		{"relay", Connection{URI: "https://198-51-100-1.h.plex.direct:8443", Relay: true}, 6},
		{"relay marked local", Connection{URI: "https://198-51-100-1.h.plex.direct:8443", Relay: true, Local: true}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := preference(tt.c); got != tt.want {
				t.Errorf("preference(%+v) = %d, want %d", tt.c, got, tt.want)
			}
		})
	}
}

func TestCandidates(t *testing.T) {
	relay := Connection{URI: "https://198-51-100-1.h.plex.direct:8443", Relay: true}
	remoteHTTP := Connection{URI: "http://203.0.113.7:32400"}
	direct := Connection{URI: "https://203-0-113-7.h.plex.direct:32400"}
	localHTTP := Connection{URI: "http://192.168.1.5:32400", Local: true}
	localHTTPS := Connection{URI: "https://192-168-1-5.h.plex.direct:32400", Local: true}
	all := []Connection{relay, remoteHTTP, direct, localHTTP, localHTTPS}
	tests := []struct {
		name      string
		owned     bool
		httpsOnly bool
		want      []Connection
	}{
		{"owned: local, plex.direct, remote, relay", true, false, []Connection{localHTTPS, localHTTP, direct, remoteHTTP, relay}},
		{"shared: no local", false, false, []Connection{direct, remoteHTTP, relay}},
		{"secure connections required: no http", true, true, []Connection{localHTTPS, direct, relay}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Candidates(Resource{Owned: tt.owned, HTTPSRequired: tt.httpsOnly, Connections: all})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Candidates =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}
