package plex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
)

// ClientInfo is what we tell Plex about ourselves on every request. ID is
// one random identifier persisted per install: never rotated, never a
// player's id (two clients sharing one make Plex stop the earlier session).
type ClientInfo struct {
	ID         string
	Product    string
	Version    string
	DeviceName string
}

// DefaultProduct is the X-Plex-Product we send; it shows in the account's
// authorized devices.
const DefaultProduct = "Plex Warden"

// MaxBody bounds every answer we read, after decompression (a
// /status/sessions with a thousand sessions is a few MiB). Reading stops
// there: an oversized, endless or gzip-bomb answer costs at most this much
// memory, and a Content-Length above it is refused before reading.
const MaxBody = 16 << 20

// Client calls one Plex Media Server. It is safe for concurrent use.
type Client struct {
	base    atomic.Pointer[url.URL] // swapped by SetBaseURL; never modified in place
	token   string
	info    ClientInfo
	http    *http.Client
	timeout time.Duration
	// sessionsBuf is the storage of the last /status/sessions answer, for
	// the next (Sessions); nil while a call uses it.
	sessionsBuf atomic.Pointer[[]byte]
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (TLS settings, transport). Its Timeout
// should be zero: each call has its own deadline and the event stream none.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTimeout sets the deadline of each call (default 10 s).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// ParseBaseURL checks a server address and returns it normalised. A bare
// "host:port" gets http://.
func ParseBaseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("no server address given (use --server URL or PLEX_URL)")
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad server address %q: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("bad server address %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("bad server address %q: no host", raw)
	}
	if u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("bad server address: put the token in PLEX_TOKEN, not in the URL")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.Fragment = ""
	return u, nil
}

// NewClient returns a client for the server at baseURL using token (which may
// be empty for /identity).
func NewClient(baseURL, token string, info ClientInfo, opts ...Option) (*Client, error) {
	u, err := ParseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if info.Product == "" {
		info.Product = DefaultProduct
	}
	c := &Client{token: token, info: info, http: &http.Client{}, timeout: 10 * time.Second}
	c.base.Store(u)
	for _, o := range opts {
		o(c)
	}
	c.http = SafeHTTPClient(c.http) // the token never follows a redirect to another host
	return c, nil
}

// BaseURL returns the server address (no token in it).
func (c *Client) BaseURL() string { return c.base.Load().String() }

// SetBaseURL moves the client to another address of the same server (a
// re-probe found a better one); calls already under way finish on the old
// one. Feeds made by NewFeed follow on their next attempt.
func (c *Client) SetBaseURL(raw string) error {
	u, err := ParseBaseURL(raw)
	if err != nil {
		return err
	}
	c.base.Store(u)
	return nil
}

// CloseIdleConnections closes the keep-alive connections the client is not
// using, so a client that is done leaves none open behind it.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Info returns the X-Plex-* identity the client sends (no token in it).
func (c *Client) Info() ClientInfo { return c.info }

// HTTPClient returns the underlying HTTP client (for the event stream); it
// follows redirects by CheckRedirect.
func (c *Client) HTTPClient() *http.Client { return c.http }

// Headers returns the X-Plex-* headers sent on every request, token included.
// Never log them.
func (c *Client) Headers() http.Header {
	h := http.Header{}
	h.Set("Accept", "application/json")
	h.Set("X-Plex-Product", c.info.Product)
	if c.info.Version != "" {
		h.Set("X-Plex-Version", c.info.Version)
	}
	if c.info.ID != "" {
		h.Set("X-Plex-Client-Identifier", c.info.ID)
	}
	h.Set("X-Plex-Platform", platformName())
	h.Set("X-Plex-Device", platformName())
	if c.info.DeviceName != "" {
		h.Set("X-Plex-Device-Name", c.info.DeviceName)
	}
	h.Set("X-Plex-Provides", "controller")
	if c.token != "" {
		h.Set("X-Plex-Token", c.token)
	}
	return h
}

func platformName() string {
	switch runtime.GOOS {
	case "darwin":
		return "macOS"
	case "windows":
		return "Windows"
	case "linux":
		return "Linux"
	}
	return runtime.GOOS
}

// URL returns the absolute URL of path with query q. It never carries the token.
func (c *Client) URL(path string, q url.Values) string {
	base := c.base.Load()
	u := *base
	u.Path = base.Path + path
	u.RawQuery = q.Encode()
	return u.String()
}

func (c *Client) server() string {
	base := c.base.Load()
	return base.Scheme + "://" + base.Host
}

// do sends one request and returns the body of a 2xx answer.
func (c *Client) do(ctx context.Context, op, method, path string, q url.Values) ([]byte, int, error) {
	return c.doCapped(ctx, op, method, path, q, "", MaxBody)
}

// doCapped is do reading at most limit bytes, with Accept set to accept
// when not empty.
func (c *Client) doCapped(ctx context.Context, op, method, path string, q url.Values, accept string, limit int) ([]byte, int, error) {
	return c.doInto(ctx, op, method, path, q, accept, limit, nil)
}

// doInto is doCapped reading the answer into buf's storage when it is
// large enough (readCappedInto).
func (c *Client) doInto(ctx context.Context, op, method, path string, q url.Values, accept string, limit int, buf []byte) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.URL(path, q), nil)
	if err != nil {
		return nil, 0, &Error{Op: op, Server: c.server(), Err: ErrBadRequest, Detail: "cannot build request"}
	}
	req.Header = c.Headers()
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		detail, sentinel := TransportError(ctx, err, PeerServer)
		return nil, 0, &Error{Op: op, Server: c.server(), Err: sentinel, Detail: detail}
	}
	defer resp.Body.Close()
	body, err := readCappedInto(resp.Body, resp.ContentLength, limit, buf)
	if errors.Is(err, ErrTooLarge) {
		return nil, resp.StatusCode, &Error{Op: op, Server: c.server(), Status: resp.StatusCode, Err: ErrTooLarge,
			Detail: fmt.Sprintf("over %s; not read further", sizeText(limit)), RetryAfter: parseRetryAfter(resp, time.Now())}
	}
	if err != nil {
		detail, sentinel := TransportError(ctx, err, PeerServer)
		return nil, resp.StatusCode, &Error{Op: op, Server: c.server(), Status: resp.StatusCode, Err: sentinel, Detail: "reading answer: " + detail}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return body, resp.StatusCode, &Error{Op: op, Server: c.server(), Status: resp.StatusCode, Err: statusError(resp.StatusCode),
			RetryAfter: parseRetryAfter(resp, time.Now())}
	}
	return body, resp.StatusCode, nil
}

// sizeText writes a byte count as "16 MiB" or "512 KiB".
func sizeText(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// ReadCapped reads r to its end if that is at most limit bytes, else stops
// at the limit and returns ErrTooLarge. A contentLength (-1: unknown) over
// the limit is refused before reading. Unknown lengths are read in chunks
// joined once the end is reached, so an oversized answer costs about limit
// bytes, not the two or three times a growing buffer would.
func ReadCapped(r io.Reader, contentLength int64, limit int) ([]byte, error) {
	return readCappedInto(r, contentLength, limit, nil)
}

// readCappedInto is ReadCapped reading into buf's storage when it is large
// enough (buf's contents do not matter), so that a caller that reads
// answers of about the same size again and again (Sessions) allocates,
// clears and copies nothing once it has a buffer.
func readCappedInto(r io.Reader, contentLength int64, limit int, buf []byte) ([]byte, error) {
	if contentLength > int64(limit) {
		return nil, ErrTooLarge
	}
	if contentLength >= 0 {
		b := buf[:0]
		if int64(cap(b)) < contentLength {
			b = make([]byte, contentLength)
		}
		b = b[:contentLength]
		n, err := io.ReadFull(r, b)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = nil // shorter than announced: what came is the answer
		}
		return b[:n], err
	}
	// Unknown length: fill buf's storage first; past it, read chunks
	// (doubling from 32 KiB, at most 1 MiB each, never past limit+1 bytes
	// in all, the one byte that tells an answer over the cap) and join
	// them at the end, so that an answer over the cap costs about the cap.
	b := buf[:0]
	for len(b) < cap(b) {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > limit {
			return nil, ErrTooLarge
		}
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
	chunks := [][]byte{b}
	total, size := len(b), 32<<10
	for {
		size = min(size, limit+1-total)
		c := make([]byte, size)
		n, err := io.ReadFull(r, c)
		chunks = append(chunks, c[:n])
		total += n
		if total > limit {
			return nil, ErrTooLarge
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		size = min(2*size, 1<<20)
	}
	if len(chunks) == 2 && len(chunks[0]) == 0 {
		return chunks[1], nil
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}

func (c *Client) get(ctx context.Context, op, path string, decode func([]byte) error) error {
	_, err := c.getInto(ctx, op, path, nil, decode)
	return err
}

// getInto is get reading the answer into buf's storage when it is large
// enough; it returns the storage used, for the next call, once decode has
// returned (decode must not keep the bytes it is given).
func (c *Client) getInto(ctx context.Context, op, path string, buf []byte, decode func([]byte) error) ([]byte, error) {
	body, _, err := c.doInto(ctx, op, http.MethodGet, path, nil, "", MaxBody, buf)
	if err != nil {
		return body, err
	}
	if err := decode(body); err != nil {
		return body, &Error{Op: op, Server: c.server(), Status: 200, Err: ErrMalformed, Detail: trimDetail(err.Error())}
	}
	return body, nil
}

func trimDetail(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// Identity calls GET /identity (no token needed): liveness and "right server?".
func (c *Client) Identity(ctx context.Context) (*Identity, error) {
	var id *Identity
	err := c.get(ctx, "identity", "/identity", func(b []byte) (err error) { id, err = DecodeIdentity(b); return })
	return id, err
}

// ServerInfo calls GET /: name, version, Plex Pass, event stream support.
func (c *Client) ServerInfo(ctx context.Context) (*ServerInfo, error) {
	var s *ServerInfo
	err := c.get(ctx, "server info", "/", func(b []byte) (err error) { s, err = DecodeServerInfo(b); return })
	return s, err
}

// Sessions calls GET /status/sessions (admin token): everything playing
// now, each session once (MergeDuplicates).
//
// The answer is read into the storage of the previous one: at 2,000
// sessions (3 MB) that saves allocating, clearing and copying it on every
// fetch. Nothing decoded refers to those bytes (every string is a copy),
// which TestSessionsBufferReuse checks.
func (c *Client) Sessions(ctx context.Context) ([]Metadata, error) {
	var buf []byte
	if p := c.sessionsBuf.Swap(nil); p != nil {
		buf = *p
	}
	var m []Metadata
	body, err := c.getInto(ctx, "sessions", "/status/sessions", buf, func(b []byte) (err error) { m, err = DecodeSessions(b); return })
	// Kept for the next call unless it is far larger than this answer
	// needed (one huge answer does not pin its storage for good).
	if cap(body) > 0 && cap(body) <= 2*len(body)+64<<10 {
		c.sessionsBuf.Store(&body)
	}
	return MergeDuplicates(m), err
}

// Metadata is GET /library/metadata/<ratingKey>: the library item with
// every version (Media) of its file as stored, which during a transcode is
// the only place the source's resolution and bitrate are told (a
// session's own Media describe the transcoder's output). ratingKey must be
// a library key (digits); Live TV and other keys are refused without a
// request.
func (c *Client) Metadata(ctx context.Context, ratingKey string) (*Metadata, error) {
	if !LibraryRatingKey(ratingKey) {
		return nil, fmt.Errorf("plex: %q is not a library item key", ratingKey)
	}
	var items []Metadata
	err := c.get(ctx, "metadata", "/library/metadata/"+ratingKey, func(b []byte) (err error) { items, err = DecodeSessions(b); return })
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("plex: no item %s in the library", ratingKey)
	}
	return &items[0], nil
}

// LibraryRatingKey reports whether k is a library item's ratingKey (one
// to 18 digits); Live TV and channels use other forms.
func LibraryRatingKey(k string) bool {
	if k == "" || len(k) > 18 {
		return false
	}
	for _, c := range k {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// MaxThumb bounds a poster or other artwork Thumb reads: Plex's posters are
// a few hundred KiB.
const MaxThumb = 2 << 20

// Thumb fetches an item's artwork, the path of a session's thumb or
// grandparentThumb ("/library/metadata/40200/thumb/1700000000"), with the
// token in the X-Plex-Token header as every call; at most MaxThumb bytes.
// Only a path on this server is taken (no address, query or "..").
func (c *Client) Thumb(ctx context.Context, path string) ([]byte, error) {
	if !ThumbPath(path) {
		return nil, &Error{Op: "artwork", Server: c.server(), Err: ErrBadRequest, Detail: "not an artwork path on this server"}
	}
	body, _, err := c.doCapped(ctx, "artwork", http.MethodGet, path, nil, "image/*", MaxThumb)
	return body, err
}

// ThumbPath reports whether p is a path Thumb takes: absolute on the
// server, without a query, fragment, backslash or ".." element.
func ThumbPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || len(p) > 1024 ||
		strings.ContainsAny(p, "?#\\ ") || strings.Contains(p, "://") {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." || part == "." {
			return false
		}
	}
	return true
}

// TranscodeSessions calls GET /transcode/sessions: the live transcoder jobs.
func (c *Client) TranscodeSessions(ctx context.Context) ([]TranscodeSession, error) {
	var t []TranscodeSession
	err := c.get(ctx, "transcode sessions", "/transcode/sessions", func(b []byte) (err error) { t, err = DecodeTranscodeSessions(b); return })
	return t, err
}

// Terminate stops a session with a message the player shows. sessionID is
// Session.id from /status/sessions, not the sessionKey. A 404 (already gone)
// is ErrNotFound. A 401 is checked with GET /: if the token still works the
// server lacks Plex Pass (ErrPlexPassRequired), else the token was rejected.
func (c *Client) Terminate(ctx context.Context, sessionID, reason string) error {
	if sessionID == "" {
		return &Error{Op: "terminate", Server: c.server(), Err: ErrBadRequest, Detail: "the session has no Session id"}
	}
	q := url.Values{"sessionId": {sessionID}, "reason": {reason}}
	_, status, err := c.do(ctx, "terminate", http.MethodGet, "/status/sessions/terminate", q)
	if err != nil && status == http.StatusUnauthorized {
		if _, infoErr := c.ServerInfo(ctx); infoErr == nil {
			return &Error{Op: "terminate", Server: c.server(), Status: status, Err: ErrPlexPassRequired,
				Detail: "the token works but the server refuses to terminate; the owner's account needs an active Plex Pass"}
		}
	}
	return err
}

// StopTranscode kills a transcoder job: DELETE /transcode/sessions/<id>. key
// may be any form ("/transcode/sessions/abc" or "abc"). Playback breaks
// without a message.
func (c *Client) StopTranscode(ctx context.Context, key string) error {
	id := TranscodeID(key)
	if id == "" {
		return &Error{Op: "stop transcode", Server: c.server(), Err: ErrBadRequest, Detail: "no transcode key"}
	}
	_, _, err := c.do(ctx, "stop transcode", http.MethodDelete, "/transcode/sessions/"+url.PathEscape(id), nil)
	return err
}

// EventsURL is the URL of the SSE notification stream with the given filters
// ("filters" is plural: the OpenAPI file's "filter" is wrong).
func (c *Client) EventsURL(filters []string) string {
	q := url.Values{}
	if filters != nil {
		q.Set("filters", strings.Join(filters, ","))
	}
	return c.URL("/:/eventsource/notifications", q)
}
