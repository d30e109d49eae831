package alert

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
)

// Kind is one type of alert channel: how to check its settings and how to
// build its Sender. Each lives in its own file and registers itself.
type Kind struct {
	Type  string // the config's "type"
	Label string // in Settings, e.g. "ntfy"
	// SecretLabel names the channel's secret in Settings ("Access token");
	// empty when it has none.
	SecretLabel string
	Check       func(ch app.AlertChannel) error
	New         func(ch app.AlertChannel, secret string) Sender
}

var kinds = map[string]Kind{}

func register(k Kind) { kinds[k.Type] = k }

// Kinds lists the channel types, sorted by type.
func Kinds() []Kind {
	out := make([]Kind, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// KindOf returns the kind of channel type t.
func KindOf(t string) (Kind, bool) {
	k, ok := kinds[t]
	return k, ok
}

// SecretKey is the keyring entry of the channel named name.
func SecretKey(name string) string { return "alert:" + name }

// Validate checks a channel's settings and says what is wrong in words.
func Validate(ch app.AlertChannel) error {
	if strings.TrimSpace(ch.Name) == "" {
		return errors.New("give the channel a name")
	}
	k, ok := kinds[ch.Type]
	if !ok {
		return fmt.Errorf("channel %q: unknown type %q (use %s)", ch.Name, ch.Type, typeList())
	}
	if ch.PerMinute < 0 {
		return fmt.Errorf("channel %q: the rate limit cannot be negative", ch.Name)
	}
	if err := k.Check(ch); err != nil {
		return fmt.Errorf("channel %q: %w", ch.Name, err)
	}
	return nil
}

// ValidateAll checks every channel and that names are unique.
func ValidateAll(chs []app.AlertChannel) error {
	seen := map[string]bool{}
	for _, ch := range chs {
		if err := Validate(ch); err != nil {
			return err
		}
		if seen[ch.Name] {
			return fmt.Errorf("two alert channels are named %q; names must differ", ch.Name)
		}
		seen[ch.Name] = true
	}
	return nil
}

func typeList() string {
	var ts []string
	for t := range kinds {
		ts = append(ts, `"`+t+`"`)
	}
	slices.Sort(ts)
	return strings.Join(ts, ", ")
}

// Build returns the Channel for ch with its secret ("" for none).
func Build(ch app.AlertChannel, secret string) (Channel, error) {
	if err := Validate(ch); err != nil {
		return Channel{}, err
	}
	per := ch.PerMinute
	if per == 0 {
		per = app.DefaultAlertsPerMinute
	}
	return Channel{Name: ch.Name, Kinds: ch.Kinds, PerMinute: per, Sender: kinds[ch.Type].New(ch, secret)}, nil
}

// LoadSecrets reads the secrets of chs from store; a channel without one
// has none. The error names the channels whose secret could not be read.
func LoadSecrets(ctx context.Context, store app.SecretStore, chs []app.AlertChannel) (map[string]string, error) {
	out := map[string]string{}
	var errs []error
	for _, ch := range chs {
		if kinds[ch.Type].SecretLabel == "" {
			continue
		}
		v, err := store.Get(ctx, SecretKey(ch.Name))
		switch {
		case errors.Is(err, app.ErrNoSecret):
		case err != nil:
			errs = append(errs, fmt.Errorf("alert channel %q: reading its secret: %w", ch.Name, err))
		default:
			out[ch.Name] = v
		}
	}
	return out, errors.Join(errs...)
}

// FromConfig builds the channels of chs that are on, with their secrets.
// A channel that cannot be built is left out and named in the error.
func FromConfig(chs []app.AlertChannel, secrets map[string]string) ([]Channel, error) {
	var out []Channel
	var errs []error
	for _, ch := range chs {
		if ch.Off {
			continue
		}
		c, err := Build(ch, secrets[ch.Name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

// TestNotification is what "Send test" sends: a real session of st (a
// transcode if one is playing), or SampleSession when nothing plays.
func TestNotification(st *app.State) app.Notification {
	var pick *app.Session
	if st != nil {
		for _, sn := range st.Servers {
			for s := range sn.All() {
				if s.Kind == plex.KindPreroll || s.Kind == plex.KindTheme {
					continue
				}
				if pick == nil || (!pick.Transcoding() && s.Transcoding()) {
					pick = s
				}
			}
		}
	}
	s := app.SampleSession()
	if pick != nil {
		s = *pick
	}
	n := app.SessionNotification(s)
	n.Title += " (test from Plex Warden)"
	return n
}

// httpClient is the client of the HTTP channels: redirects only to the
// same origin (the secret header must not travel elsewhere).
var httpClient = plex.SafeHTTPClient(&http.Client{Timeout: SendTimeout})

// checkURL checks an http(s) URL setting.
func checkURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return errors.New("the URL is missing")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http:// or https:// address", raw)
	}
	if u.User != nil {
		return errors.New("put the password in the secret field, not in the URL (the URL is saved in the config file)")
	}
	return nil
}

// postError words a failed POST to the channel's server.
func postError(ctx context.Context, host string, resp *http.Response, err error) error {
	if err != nil {
		return reachError(ctx, host, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s refused the message (%s): check the secret", host, resp.Status)
	case resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("%s asked to slow down (%s)", host, resp.Status)
	case resp.StatusCode >= 300:
		return fmt.Errorf("%s answered %s", host, resp.Status)
	}
	return nil
}

// post sends body to rawURL with headers and words any failure.
func post(ctx context.Context, rawURL string, header http.Header, body string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = header
	req.Header.Set("User-Agent", "Plex Warden")
	resp, err := httpClient.Do(req)
	if resp != nil {
		defer resp.Body.Close()
		_, _ = plex.ReadCapped(resp.Body, resp.ContentLength, 64<<10)
	}
	return postError(ctx, u.Host, resp, err)
}

// timeNow is the clock of message timestamps (tests fix it).
var timeNow = time.Now

// reachError words a failed connection to what (a host, "the mail
// server host:port") the way plex.TransportError maps it.
func reachError(ctx context.Context, what string, err error) error {
	detail, sentinel := plex.TransportError(ctx, err, plex.PeerOther)
	if errors.Is(sentinel, plex.ErrTimeout) {
		return fmt.Errorf("%s did not answer in time", what)
	}
	return fmt.Errorf("could not reach %s (%s)", what, detail)
}
