package plextv

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

// DefaultBaseURL is where plex.tv lives.
const DefaultBaseURL = "https://plex.tv"

// DefaultTimeout bounds each call to plex.tv when Client.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// maxBody bounds what we read from plex.tv; a resources list of a large
// account is a few hundred KiB.
const maxBody = 8 << 20

// Errors of this package. Failures also wrap the sentinels of package plex
// (plex.ErrUnauthorized, plex.ErrUnreachable, plex.ErrTimeout, …), so
// callers test them with errors.Is whatever answered.
var (
	// ErrPINExpired is returned once the sign-in PIN can no longer be
	// approved: plex.tv answers 404 with error code 1020, or its expiry
	// time has passed.
	ErrPINExpired = errors.New("the sign-in code expired before it was approved")
	// ErrWrongServer reports a connection whose /identity names another
	// machineIdentifier than the resource's: a different server answered
	// at that address (a reused private IP, a stale plex.direct name).
	ErrWrongServer = errors.New("a different server answered")
)

// plex.tv error codes we act on (docs/plex-api.md §1).
const (
	CodeNotAuthenticated = 1001 // 401: the token is not valid
	CodePINExpired       = 1020 // 404: the PIN is unknown or expired
)

// APIError is an error answer of plex.tv,
// {"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]}
// (or its XML form). It wraps the sentinel matching the status and code,
// and travels inside a *plex.Error that says which call failed.
type APIError struct {
	Status  int    // HTTP status
	Code    int    // plex.tv error code, e.g. 1001 or 1020
	Message string // plex.tv's message, token-free
	Err     error  // plex.ErrUnauthorized, ErrPINExpired, plex.ErrNotFound, …
}

// Error returns the sentinel's text followed by plex.tv's code and message.
func (e *APIError) Error() string {
	switch {
	case e.Code != 0 && e.Message != "":
		return fmt.Sprintf("%v (plex.tv error %d: %s)", e.Err, e.Code, e.Message)
	case e.Code != 0:
		return fmt.Sprintf("%v (plex.tv error %d)", e.Err, e.Code)
	case e.Message != "":
		return fmt.Sprintf("%v (plex.tv: %s)", e.Err, e.Message)
	}
	return e.Err.Error()
}

// Unwrap returns the sentinel.
func (e *APIError) Unwrap() error { return e.Err }

// Client calls plex.tv. The zero value with Info set is ready to use; it is
// safe for concurrent use once its fields are no longer changed.
type Client struct {
	// BaseURL is plex.tv's address; "" means DefaultBaseURL. Tests point it
	// at a plextvsim server.
	BaseURL string
	// Info identifies Plex Warden. Info.ID must be the one persisted client
	// identifier (app.LoadClientID): plex.tv ties the PIN's approval to the
	// id that created it, and polling with another id never yields a token.
	Info plex.ClientInfo
	// HTTPClient sends the requests; nil means a plain http.Client. Its
	// Timeout may stay zero: every call has its own deadline.
	HTTPClient *http.Client
	// Timeout is the deadline of each call; zero means DefaultTimeout.
	Timeout time.Duration
}

// base returns the parsed base URL.
func (c *Client) base() (*url.URL, error) {
	raw := c.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := plex.ParseBaseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("plex.tv address: %w", err)
	}
	return u, nil
}

func (c *Client) httpClient() *http.Client {
	return plex.SafeHTTPClient(c.HTTPClient) // no token to another host
}

// headers returns the X-Plex-* headers, built exactly as package plex
// builds them for a server, so plex.tv and the servers see one device.
func (c *Client) headers(base *url.URL, token string) (http.Header, error) {
	pc, err := plex.NewClient(base.String(), token, c.Info)
	if err != nil {
		return nil, err
	}
	return pc.Headers(), nil
}

// do sends one request to plex.tv and returns the body of a 2xx answer.
// token, when not empty, goes in the X-Plex-Token header only; every error
// is a *plex.Error whose text never contains it.
func (c *Client) do(ctx context.Context, op, method, path string, q url.Values, token string) ([]byte, error) {
	base, err := c.base()
	if err != nil {
		return nil, err
	}
	server := base.Scheme + "://" + base.Host
	fail := func(status int, sentinel error, detail string) error {
		return &plex.Error{Op: op, Server: server, Status: status, Err: sentinel, Detail: redact(detail, token)}
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := *base
	u.Path = base.Path + path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, fail(0, plex.ErrBadRequest, "cannot build the request")
	}
	if req.Header, err = c.headers(base, token); err != nil {
		return nil, fail(0, plex.ErrBadRequest, err.Error())
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		detail, sentinel := plex.TransportError(ctx, err, plex.PeerPlexTV)
		return nil, fail(0, sentinel, detail)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		detail, sentinel := plex.TransportError(ctx, err, plex.PeerPlexTV)
		return nil, fail(resp.StatusCode, sentinel, "reading the answer: "+detail)
	}
	if len(body) > maxBody {
		return nil, fail(resp.StatusCode, plex.ErrTooLarge, fmt.Sprintf("over %d MiB", maxBody>>20))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return body, &plex.Error{Op: op, Server: server, Status: resp.StatusCode, Err: answerError(resp.StatusCode, body, token)}
	}
	return body, nil
}

// redact removes the token from a text that may quote a request.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "[token]")
}

// answerError turns a non-2xx answer into an error wrapping a sentinel:
// an *APIError when plex.tv sent its error document, else the sentinel.
func answerError(status int, body []byte, token string) error {
	code, msg := parseErrorBody(body)
	sentinel := statusSentinel(status, code)
	if code == 0 && msg == "" {
		return sentinel
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return &APIError{Status: status, Code: code, Message: redact(msg, token), Err: sentinel}
}

// statusSentinel maps a plex.tv status and error code to a sentinel.
func statusSentinel(status, code int) error {
	switch {
	case code == CodePINExpired:
		return ErrPINExpired
	case status == http.StatusUnauthorized || code == CodeNotAuthenticated:
		return plex.ErrUnauthorized
	case status == http.StatusForbidden:
		return plex.ErrForbidden
	case status == http.StatusNotFound:
		return plex.ErrNotFound
	case status >= 500:
		return plex.ErrServer
	}
	return plex.ErrBadRequest
}

// parseErrorBody reads the first error of plex.tv's error document:
// {"errors":[{"code":…,"message":…,"status":…}]} in JSON, or
// <errors><error code="…" message="…" status="…"/></errors> in XML (older
// endpoints put the message in the element's text). Anything else gives
// zeros. The document's own "status" repeats the HTTP status and is not read.
func parseErrorBody(body []byte) (code int, msg string) {
	type item struct {
		Code    plex.Int    `json:"code" xml:"code,attr"`
		Message plex.String `json:"message" xml:"message,attr"`
		Text    string      `json:"-" xml:",chardata"`
	}
	var doc struct {
		Errors []item `json:"errors" xml:"error"`
	}
	b := bytes.TrimSpace(body)
	switch {
	case len(b) == 0:
		return 0, ""
	case b[0] == '{':
		if err := json.Unmarshal(b, &doc); err != nil && !isTypeError(err) {
			return 0, ""
		}
	case b[0] == '<':
		if xml.Unmarshal(b, &doc) != nil {
			return 0, ""
		}
	}
	if len(doc.Errors) == 0 {
		return 0, ""
	}
	e := doc.Errors[0]
	msg = string(e.Message)
	if msg == "" {
		msg = strings.TrimSpace(e.Text)
	}
	return int(e.Code), msg
}

func isTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

// decodeTolerant decodes JSON or XML into v; fields of the wrong type are
// skipped, only broken syntax is an error.
func decodeTolerant(b []byte, v any) error {
	b = bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(b) > 0 && b[0] == '<' {
		if err := xml.Unmarshal(b, v); err != nil {
			return fmt.Errorf("%w: %v", plex.ErrMalformed, err)
		}
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil && !isTypeError(err) {
		return fmt.Errorf("%w: %v", plex.ErrMalformed, err)
	}
	return nil
}

// malformed wraps a decoding failure of op's answer.
func (c *Client) malformed(op string, err error) error {
	server := c.BaseURL
	if u, e := c.base(); e == nil {
		server = u.Scheme + "://" + u.Host
	}
	detail := err.Error()
	if len(detail) > 200 {
		detail = detail[:200] + "…"
	}
	return &plex.Error{Op: op, Server: server, Status: http.StatusOK, Err: plex.ErrMalformed, Detail: detail}
}
