package plextv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/plex"
)

// AuthAppURL is the page where the user approves a PIN.
const AuthAppURL = "https://app.plex.tv/auth"

// DefaultPollInterval is how often PollPIN asks plex.tv when given no
// interval ("about once a second", as Tautulli and python-plexapi do).
const DefaultPollInterval = time.Second

// PIN is a sign-in request created on plex.tv. The user approves it in the
// browser (AuthURL); PollPIN then receives the account token.
type PIN struct {
	ID               int64     // plex.tv's PIN id, used to poll
	Code             string    // the code the auth app approves (25 characters with strong=true)
	ClientIdentifier string    // the client id plex.tv recorded; equals Client.Info.ID
	ExpiresIn        int       // lifetime in seconds as plex.tv stated it (1800 for strong PINs)
	ExpiresAt        time.Time // when the PIN stops being approvable, on this computer's clock
}

// wirePIN is a PIN as plex.tv sends it (JSON, or XML attributes of <pin>).
type wirePIN struct {
	ID               plex.Int    `json:"id" xml:"id,attr"`
	Code             plex.String `json:"code" xml:"code,attr"`
	ClientIdentifier plex.String `json:"clientIdentifier" xml:"clientIdentifier,attr"`
	ExpiresIn        plex.Int    `json:"expiresIn" xml:"expiresIn,attr"`
	ExpiresAt        plex.String `json:"expiresAt" xml:"expiresAt,attr"`
	AuthToken        plex.String `json:"authToken" xml:"authToken,attr"` // null until approved
}

// pinDeadline says when a PIN expires on the local clock. expiresIn,
// counted from when the answer arrived, is preferred to expiresAt: a local
// clock a few minutes off would otherwise make us give up early or late.
func pinDeadline(w wirePIN, received time.Time) time.Time {
	if w.ExpiresIn > 0 {
		return received.Add(time.Duration(w.ExpiresIn) * time.Second)
	}
	if t, err := time.Parse(time.RFC3339, string(w.ExpiresAt)); err == nil {
		return t
	}
	// Neither given: assume the documented lifetime of a strong PIN, so
	// polling never runs unbounded.
	return received.Add(strongPINLifetime)
}

// strongPINLifetime is how long plex.tv keeps a strong=true PIN.
const strongPINLifetime = 30 * time.Minute

// CreatePIN asks plex.tv for a new sign-in PIN: POST /api/v2/pins?strong=true
// with our headers and no token. strong=true gives the long code the
// auth-app URL needs (and 30 minutes to approve it).
func (c *Client) CreatePIN(ctx context.Context) (*PIN, error) {
	const op = "create sign-in PIN"
	body, err := c.do(ctx, op, http.MethodPost, "/api/v2/pins", url.Values{"strong": {"true"}}, "")
	if err != nil {
		return nil, err
	}
	var w wirePIN
	if err := decodeTolerant(body, &w); err != nil {
		return nil, c.malformed(op, err)
	}
	if w.ID == 0 || w.Code == "" {
		return nil, c.malformed(op, errors.New("the answer has no PIN id or code"))
	}
	return &PIN{
		ID:               int64(w.ID),
		Code:             string(w.Code),
		ClientIdentifier: string(w.ClientIdentifier),
		ExpiresIn:        int(w.ExpiresIn),
		ExpiresAt:        pinDeadline(w, time.Now()),
	}, nil
}

// AuthURL returns the page where the user signs in and approves pin:
// https://app.plex.tv/auth#?clientID=<id>&code=<code>&context%5Bdevice%5D%5Bproduct%5D=Plex%20Warden
// The clientID must be the id that created the PIN, or the approval lands on
// another device and PollPIN never sees a token.
func (c *Client) AuthURL(pin *PIN) string {
	product := c.Info.Product
	if product == "" {
		product = plex.DefaultProduct
	}
	q := url.Values{
		"clientID":                 {c.Info.ID},
		"code":                     {pin.Code},
		"context[device][product]": {product},
	}
	// Encode writes spaces as "+"; the auth app reads its fragment with
	// decodeURIComponent, which leaves "+" alone, so spaces must be %20.
	// A literal "+" is already %2B, so the replacement is safe.
	return AuthAppURL + "#?" + strings.ReplaceAll(q.Encode(), "+", "%20")
}

// PollPIN waits until the user approves pin and returns the account token.
// It asks plex.tv (GET /api/v2/pins/<id>, same client id, no token) every
// interval (DefaultPollInterval when zero or less) and stops:
//   - with the token once authToken is set;
//   - with an error wrapping ErrPINExpired when plex.tv answers 404/1020 or
//     the PIN's ExpiresAt has passed;
//   - with ctx.Err() when ctx ends;
//   - with the error when plex.tv refuses the request (a 4xx other than
//     404 and 429).
//
// Network failures, timeouts, 5xx and 429 answers are retried until the
// PIN expires: a blip while the user types a password must not lose the
// sign-in.
func (c *Client) PollPIN(ctx context.Context, pin *PIN, interval time.Duration) (string, error) {
	const op = "check sign-in PIN"
	if pin == nil || pin.ID == 0 {
		return "", errors.New("no sign-in PIN to check")
	}
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	path := "/api/v2/pins/" + strconv.FormatInt(pin.ID, 10)
	var lastErr error
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if !pin.ExpiresAt.IsZero() && !time.Now().Before(pin.ExpiresAt) {
			return "", expiredError(lastErr)
		}
		body, err := c.do(ctx, op, http.MethodGet, path, nil, "")
		switch {
		case err == nil:
			var w wirePIN
			if derr := decodeTolerant(body, &w); derr != nil {
				lastErr = c.malformed(op, derr)
				break
			}
			if w.AuthToken != "" {
				return string(w.AuthToken), nil
			}
			lastErr = nil
		case ctx.Err() != nil:
			return "", ctx.Err()
		case errors.Is(err, ErrPINExpired):
			return "", err
		case errors.Is(err, plex.ErrNotFound):
			// A 404 without code 1020 is as final: plex.tv no longer knows the PIN.
			return "", fmt.Errorf("%w: %v", ErrPINExpired, err)
		case retryable(err):
			lastErr = err
		default:
			return "", err
		}
		wait := interval
		if left := time.Until(pin.ExpiresAt); !pin.ExpiresAt.IsZero() && left < wait {
			wait = max(left, 0)
		}
		if err := sleep(ctx, wait); err != nil {
			return "", err
		}
	}
}

// expiredError says the PIN expired, with the last failure if the network
// was the reason nothing arrived.
func expiredError(last error) error {
	if last == nil {
		return ErrPINExpired
	}
	return fmt.Errorf("%w (the last check failed: %v)", ErrPINExpired, last)
}

// retryable reports whether a failed poll is worth repeating.
func retryable(err error) bool {
	var pe *plex.Error
	if errors.As(err, &pe) && pe.Status == http.StatusTooManyRequests {
		return true
	}
	return errors.Is(err, plex.ErrUnreachable) || errors.Is(err, plex.ErrTimeout) ||
		errors.Is(err, plex.ErrServer) || errors.Is(err, plex.ErrMalformed)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
