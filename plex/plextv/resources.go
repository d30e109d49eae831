package plextv

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/plexwarden/plexwarden/plex"
)

// User is the plex.tv account a token belongs to.
type User struct {
	ID       int64
	UUID     string
	Username string
	Title    string // display name
}

// User validates an account token with GET /api/v2/user and returns its
// account. A 401 answer (plex.ErrUnauthorized) proves the token bad; any
// other failure (plex.ErrUnreachable, plex.ErrTimeout, plex.ErrServer, …)
// proves nothing about it, so callers keep the token and try again later.
func (c *Client) User(ctx context.Context, token string) (*User, error) {
	const op = "check plex.tv account"
	body, err := c.do(ctx, op, http.MethodGet, "/api/v2/user", nil, token)
	if err != nil {
		return nil, err
	}
	var w struct {
		ID       plex.Int    `json:"id" xml:"id,attr"`
		UUID     plex.String `json:"uuid" xml:"uuid,attr"`
		Username plex.String `json:"username" xml:"username,attr"`
		Title    plex.String `json:"title" xml:"title,attr"`
	}
	if err := decodeTolerant(body, &w); err != nil {
		return nil, c.malformed(op, err)
	}
	return &User{ID: int64(w.ID), UUID: string(w.UUID), Username: string(w.Username), Title: string(w.Title)}, nil
}

// Resource is one device of the account as /api/v2/resources lists it.
// For a server, ClientIdentifier is its machineIdentifier and AccessToken
// the token to use with it (the owner's token for owned servers, a shared
// user's token otherwise). Never log AccessToken.
type Resource struct {
	Name             string
	Product          string // "Plex Media Server" for servers
	ProductVersion   string
	Platform         string
	ClientIdentifier string // = the server's machineIdentifier
	Provides         string // comma list; servers include "server"
	Owned            bool   // ours: terminate needs the owner's token
	Home             bool
	Presence         bool   // plex.tv currently sees it online
	HTTPSRequired    bool   // the server refuses plain HTTP
	PublicAddress    string // WAN address plex.tv last saw
	SourceTitle      string // owner's name for shared servers
	AccessToken      string
	Connections      []Connection
}

// IsServer reports whether the device provides "server".
func (r Resource) IsServer() bool {
	for _, p := range strings.Split(r.Provides, ",") {
		if strings.TrimSpace(p) == "server" {
			return true
		}
	}
	return false
}

// Connection is one advertised way to reach a device.
type Connection struct {
	Protocol string // "http" or "https"
	Address  string // IP or host
	Port     int
	URI      string // base URL, e.g. https://10-0-0-5.<hash>.plex.direct:32400
	Local    bool   // on the server's LAN
	Relay    bool   // through plex.tv's relay (bandwidth-limited)
	IPv6     bool
}

// Kind says in words how the connection reaches the server: "local
// network", "remote, secure", "remote" or "plex.tv relay, limited
// bandwidth".
func (c Connection) Kind() string {
	switch {
	case c.Relay:
		return "plex.tv relay, limited bandwidth"
	case c.Local:
		return "local network"
	case c.PlexDirect():
		return "remote, secure"
	}
	return "remote"
}

// PlexDirect reports whether the connection is HTTPS to a *.plex.direct
// name, whose certificate Plex issues, so it verifies like any site.
func (c Connection) PlexDirect() bool {
	u, err := url.Parse(c.URI)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, "https") && strings.HasSuffix(strings.ToLower(u.Hostname()), ".plex.direct")
}

// wireDevice and wireConnection read both the JSON array of
// /api/v2/resources and the older XML form
// (<MediaContainer><Device …><Connection …/></Device></MediaContainer>),
// with the tolerant types of package plex: owned may be true, 1 or "1", a
// port a number or a string.
type wireDevice struct {
	Name             plex.String      `json:"name" xml:"name,attr"`
	Product          plex.String      `json:"product" xml:"product,attr"`
	ProductVersion   plex.String      `json:"productVersion" xml:"productVersion,attr"`
	Platform         plex.String      `json:"platform" xml:"platform,attr"`
	ClientIdentifier plex.String      `json:"clientIdentifier" xml:"clientIdentifier,attr"`
	Provides         plex.String      `json:"provides" xml:"provides,attr"`
	Owned            plex.Bool        `json:"owned" xml:"owned,attr"`
	Home             plex.Bool        `json:"home" xml:"home,attr"`
	Presence         plex.Bool        `json:"presence" xml:"presence,attr"`
	HTTPSRequired    plex.Bool        `json:"httpsRequired" xml:"httpsRequired,attr"`
	PublicAddress    plex.String      `json:"publicAddress" xml:"publicAddress,attr"`
	SourceTitle      plex.String      `json:"sourceTitle" xml:"sourceTitle,attr"`
	AccessToken      plex.String      `json:"accessToken" xml:"accessToken,attr"`
	Connections      []wireConnection `json:"connections" xml:"Connection"`
}

type wireConnection struct {
	Protocol plex.String `json:"protocol" xml:"protocol,attr"`
	Address  plex.String `json:"address" xml:"address,attr"`
	Port     plex.Int    `json:"port" xml:"port,attr"`
	URI      plex.String `json:"uri" xml:"uri,attr"`
	Local    plex.Bool   `json:"local" xml:"local,attr"`
	Relay    plex.Bool   `json:"relay" xml:"relay,attr"`
	IPv6     plex.Bool   `json:"IPv6" xml:"IPv6,attr"`
}

func (w wireConnection) connection() Connection {
	c := Connection{
		Protocol: strings.ToLower(string(w.Protocol)),
		Address:  string(w.Address),
		Port:     int(w.Port),
		URI:      strings.TrimRight(string(w.URI), "/"),
		Local:    bool(w.Local),
		Relay:    bool(w.Relay),
		IPv6:     bool(w.IPv6),
	}
	if c.URI == "" && c.Address != "" {
		// Old answers may lack uri; build it from its parts.
		scheme := c.Protocol
		if scheme != "https" {
			scheme = "http"
		}
		port := c.Port
		if port == 0 {
			port = 32400
		}
		c.URI = scheme + "://" + net.JoinHostPort(c.Address, strconv.Itoa(port))
	}
	if c.Protocol == "" {
		if u, err := url.Parse(c.URI); err == nil {
			c.Protocol = strings.ToLower(u.Scheme)
		}
	}
	return c
}

func (w wireDevice) resource() Resource {
	r := Resource{
		Name:             string(w.Name),
		Product:          string(w.Product),
		ProductVersion:   string(w.ProductVersion),
		Platform:         string(w.Platform),
		ClientIdentifier: string(w.ClientIdentifier),
		Provides:         string(w.Provides),
		Owned:            bool(w.Owned),
		Home:             bool(w.Home),
		Presence:         bool(w.Presence),
		HTTPSRequired:    bool(w.HTTPSRequired),
		PublicAddress:    string(w.PublicAddress),
		SourceTitle:      string(w.SourceTitle),
		AccessToken:      string(w.AccessToken),
	}
	for _, wc := range w.Connections {
		if c := wc.connection(); c.URI != "" {
			r.Connections = append(r.Connections, c)
		}
	}
	return r
}

// DecodeResources decodes a /api/v2/resources answer: the JSON array, a
// {"MediaContainer":{"Device":[…]}} wrapper, or the older XML form. It
// returns every device, servers or not; one odd field never fails the
// whole answer, only broken syntax does.
func DecodeResources(b []byte) ([]Resource, error) {
	trimmed := strings.TrimLeft(string(b), " \t\r\n\ufeff")
	var devices []wireDevice
	switch {
	case trimmed == "":
		return nil, nil
	case trimmed[0] == '<':
		var mc struct {
			Devices []wireDevice `xml:"Device"`
		}
		if err := decodeTolerant(b, &mc); err != nil {
			return nil, err
		}
		devices = mc.Devices
	case trimmed[0] == '{':
		var mc struct {
			MediaContainer struct {
				Devices []wireDevice `json:"Device"`
			} `json:"MediaContainer"`
		}
		if err := decodeTolerant(b, &mc); err != nil {
			return nil, err
		}
		devices = mc.MediaContainer.Devices
	default:
		if err := decodeTolerant(b, &devices); err != nil {
			return nil, err
		}
	}
	out := make([]Resource, 0, len(devices))
	for _, d := range devices {
		out = append(out, d.resource())
	}
	return out, nil
}

// Servers keeps the devices that provide "server" and have an identifier,
// owned ones first, otherwise in plex.tv's order.
func Servers(all []Resource) []Resource {
	var out []Resource
	for _, r := range all {
		if r.IsServer() && r.ClientIdentifier != "" {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Owned && !out[j].Owned })
	return out
}

// Resources lists the account's servers with GET
// /api/v2/resources?includeHttps=1&includeRelay=1: owned first, each with
// its access token and connections. A 401 (plex.ErrUnauthorized) means the
// account token is not valid.
func (c *Client) Resources(ctx context.Context, token string) ([]Resource, error) {
	const op = "list servers"
	q := url.Values{"includeHttps": {"1"}, "includeRelay": {"1"}}
	body, err := c.do(ctx, op, http.MethodGet, "/api/v2/resources", q, token)
	if err != nil {
		return nil, err
	}
	all, err := DecodeResources(body)
	if err != nil {
		return nil, c.malformed(op, err)
	}
	return Servers(all), nil
}
