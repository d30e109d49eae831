package plextvsim

import (
	"encoding/json"
	"encoding/xml"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Paths the simulator answers.
const (
	pathPins      = "/api/v2/pins"
	pathPinPrefix = "/api/v2/pins/"
	pathUser      = "/api/v2/user"
	pathResources = "/api/v2/resources"
)

// plex.tv error codes the simulator sends.
const (
	codeBadRequest       = 1000
	codeNotAuthenticated = 1001
	codePINExpired       = 1020
)

// serve logs the request, applies injected failures and routes it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests.Add(r, s.now())
	fail := 0
	if s.failN > 0 {
		s.failN--
		fail = s.failCode
	}
	s.mu.Unlock()
	if fail != 0 {
		writeError(w, fail, 0, http.StatusText(fail))
		return
	}
	p := r.URL.Path
	switch {
	case p == pathPins:
		s.handleCreatePIN(w, r)
	case strings.HasPrefix(p, pathPinPrefix):
		s.handlePIN(w, r, strings.TrimPrefix(p, pathPinPrefix))
	case p == pathUser:
		s.handleUser(w, r)
	case p == pathResources:
		s.handleResources(w, r)
	default:
		writeError(w, http.StatusNotFound, 0, "Not found")
	}
}

// writeError writes plex.tv's error document.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	type item struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  int    `json:"status"`
	}
	writeJSON(w, status, map[string][]item{"errors": {{Code: code, Message: msg, Status: status}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func method(w http.ResponseWriter, r *http.Request, want string) bool {
	if r.Method == want {
		return true
	}
	w.Header().Set("Allow", want)
	writeError(w, http.StatusMethodNotAllowed, codeBadRequest, "Method not allowed")
	return false
}

// token returns the account token of the request (header, else query, as
// plex.tv accepts both) if it is a valid one.
func (s *Server) token(r *http.Request) (string, bool) {
	tok := r.Header.Get("X-Plex-Token")
	if tok == "" {
		tok = r.URL.Query().Get("X-Plex-Token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return tok, tok != "" && s.tokens[tok]
}

// pinJSON is a PIN as plex.tv serialises it.
func pinJSON(p *pin, withToken bool) map[string]any {
	var tok any // null until claimed
	if withToken && p.token != "" {
		tok = p.token
	}
	return map[string]any{
		"id":               p.info.ID,
		"code":             p.info.Code,
		"product":          p.info.Product,
		"trusted":          false,
		"qr":               "https://plex.tv/api/v2/pins/qr/" + p.info.Code,
		"clientIdentifier": p.info.ClientID,
		"location":         map[string]any{"code": "XX", "country": "Loopback", "subdivisions": "", "coordinates": "0, 0"},
		"expiresIn":        int(p.info.ExpiresAt.Sub(p.info.CreatedAt).Seconds()),
		"createdAt":        p.info.CreatedAt.UTC().Format(time.RFC3339),
		"expiresAt":        p.info.ExpiresAt.UTC().Format(time.RFC3339),
		"authToken":        tok,
		"newRegistration":  nil,
	}
}

func (s *Server) handleCreatePIN(w http.ResponseWriter, r *http.Request) {
	if !method(w, r, http.MethodPost) {
		return
	}
	clientID := r.Header.Get("X-Plex-Client-Identifier")
	if clientID == "" {
		clientID = r.URL.Query().Get("X-Plex-Client-Identifier")
	}
	if clientID == "" {
		writeError(w, http.StatusBadRequest, codeBadRequest, "X-Plex-Client-Identifier is missing")
		return
	}
	strong := r.URL.Query().Get("strong") == "true"
	life, codeLen := 900*time.Second, 4
	if strong {
		life, codeLen = 1800*time.Second, 25
	}
	if s.opts.PINLifetime > 0 {
		life = s.opts.PINLifetime
	}
	now := s.now()
	s.mu.Lock()
	id := s.nextID
	s.nextID++
	p := &pin{info: PINInfo{
		ID: id, Code: newCode(codeLen), ClientID: clientID, Product: r.Header.Get("X-Plex-Product"),
		Strong: strong, CreatedAt: now, ExpiresAt: now.Add(life),
	}}
	s.pins[id] = p
	close(s.pinsCh)
	s.pinsCh = make(chan struct{})
	body := pinJSON(p, false)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, body)
}

func (s *Server) handlePIN(w http.ResponseWriter, r *http.Request, rawID string) {
	if !method(w, r, http.MethodGet) {
		return
	}
	id, _ := strconv.ParseInt(rawID, 10, 64)
	s.mu.Lock()
	p, ok := s.pins[id]
	if !ok || s.expiredLocked(p) {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, codePINExpired, "Code not found or expired")
		return
	}
	// plex.tv ties the approval to the client id that created the PIN: a
	// poll from another id never sees the token.
	body := pinJSON(p, r.Header.Get("X-Plex-Client-Identifier") == p.info.ClientID)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleUser(w http.ResponseWriter, r *http.Request) {
	if !method(w, r, http.MethodGet) {
		return
	}
	tok, ok := s.token(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, codeNotAuthenticated, "User could not be authenticated")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":        1,
		"uuid":      "0123456789abcdef",
		"username":  s.opts.Username,
		"title":     s.opts.Username,
		"email":     s.opts.Username + "@example.invalid",
		"authToken": tok,
	})
}

// resourceConns returns the connections of spec that the query asks for:
// https ones only with includeHttps=1, relays only with includeRelay=1.
func resourceConns(spec ResourceSpec, q url.Values) []ConnSpec {
	var out []ConnSpec
	for _, c := range spec.Connections {
		u, err := url.Parse(c.URI)
		if err != nil {
			continue
		}
		if c.Protocol == "" {
			c.Protocol = u.Scheme
		}
		if c.Protocol == "https" && q.Get("includeHttps") != "1" {
			continue
		}
		if c.Relay && q.Get("includeRelay") != "1" {
			continue
		}
		out = append(out, c)
	}
	return out
}

func hostPort(uri string) (string, int) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", 0
	}
	host := u.Hostname()
	port, _ := strconv.Atoi(u.Port())
	if port == 0 {
		port = 32400
	}
	if ip := net.ParseIP(host); ip == nil && strings.HasSuffix(host, ".plex.direct") {
		// plex.direct names carry the address: 10-0-0-5.<hash>.plex.direct.
		host = strings.ReplaceAll(strings.SplitN(host, ".", 2)[0], "-", ".")
	}
	return host, port
}

func (s *Server) handleResources(w http.ResponseWriter, r *http.Request) {
	if !method(w, r, http.MethodGet) {
		return
	}
	if _, ok := s.token(r); !ok {
		writeError(w, http.StatusUnauthorized, codeNotAuthenticated, "User could not be authenticated")
		return
	}
	s.mu.Lock()
	specs := append([]ResourceSpec(nil), s.resources...)
	s.mu.Unlock()
	q := r.URL.Query()
	if s.opts.LegacyXML || !strings.Contains(r.Header.Get("Accept"), "json") {
		writeResourcesXML(w, specs, q)
		return
	}
	out := make([]map[string]any, 0, len(specs))
	for _, spec := range specs {
		conns := []map[string]any{}
		for _, c := range resourceConns(spec, q) {
			addr, port := hostPort(c.URI)
			conns = append(conns, map[string]any{
				"protocol": c.Protocol, "address": addr, "port": port, "uri": c.URI,
				"local": c.Local, "relay": c.Relay, "IPv6": c.IPv6,
			})
		}
		var ownerID any // null when the account owns it
		if !spec.Owned {
			ownerID = 4242
		}
		var sourceTitle any
		if spec.SourceTitle != "" {
			sourceTitle = spec.SourceTitle
		}
		out = append(out, map[string]any{
			"name": spec.Name, "product": spec.Product, "productVersion": "1.41.3.9314-a0bfb8370",
			"platform": "Linux", "platformVersion": "6.1", "device": "PC",
			"clientIdentifier": spec.MachineID, "createdAt": "2024-01-01T00:00:00Z", "lastSeenAt": s.now().UTC().Format(time.RFC3339),
			"provides": spec.Provides, "ownerId": ownerID, "sourceTitle": sourceTitle,
			"publicAddress": "127.0.0.1", "accessToken": spec.AccessToken,
			"owned": spec.Owned, "home": false, "synced": false, "relay": true,
			"presence": !spec.Offline, "httpsRequired": false, "publicAddressMatches": true,
			"dnsRebindingProtection": false, "natLoopbackSupported": false,
			"connections": conns,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// writeResourcesXML writes the older XML form, every value a string.
func writeResourcesXML(w http.ResponseWriter, specs []ResourceSpec, q url.Values) {
	type xconn struct {
		Protocol string `xml:"protocol,attr"`
		Address  string `xml:"address,attr"`
		Port     string `xml:"port,attr"`
		URI      string `xml:"uri,attr"`
		Local    string `xml:"local,attr"`
		Relay    string `xml:"relay,attr"`
	}
	type xdev struct {
		Name             string  `xml:"name,attr"`
		Product          string  `xml:"product,attr"`
		ClientIdentifier string  `xml:"clientIdentifier,attr"`
		Provides         string  `xml:"provides,attr"`
		Owned            string  `xml:"owned,attr"`
		AccessToken      string  `xml:"accessToken,attr,omitempty"`
		SourceTitle      string  `xml:"sourceTitle,attr,omitempty"`
		Presence         string  `xml:"presence,attr"`
		Connections      []xconn `xml:"Connection"`
	}
	type container struct {
		XMLName xml.Name `xml:"MediaContainer"`
		Size    int      `xml:"size,attr"`
		Devices []xdev   `xml:"Device"`
	}
	b01 := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	c := container{Size: len(specs)}
	for _, spec := range specs {
		d := xdev{Name: spec.Name, Product: spec.Product, ClientIdentifier: spec.MachineID, Provides: spec.Provides,
			Owned: b01(spec.Owned), AccessToken: spec.AccessToken, SourceTitle: spec.SourceTitle, Presence: b01(!spec.Offline)}
		for _, cs := range resourceConns(spec, q) {
			addr, port := hostPort(cs.URI)
			d.Connections = append(d.Connections, xconn{Protocol: cs.Protocol, Address: addr, Port: strconv.Itoa(port),
				URI: cs.URI, Local: b01(cs.Local), Relay: b01(cs.Relay)})
		}
		c.Devices = append(c.Devices, d)
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(c)
}
