package alert

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/plexwarden/plexwarden/app"
)

// A webhook receives every notification as a JSON POST (WebhookBody,
// documented in docs/RULES.md). The optional secret is sent whole as the
// Authorization header ("Bearer …", "Basic …").
func init() {
	register(Kind{Type: "webhook", Label: "Webhook", SecretLabel: "Authorization header (optional)",
		Check: func(ch app.AlertChannel) error { return checkURL(ch.URL) },
		New:   func(ch app.AlertChannel, secret string) Sender { return webhook{url: ch.URL, secret: secret} }})
}

// WebhookBody is the JSON a webhook receives.
type WebhookBody struct {
	App        string `json:"app"`                  // "Plex Warden"
	Kind       string `json:"kind"`                 // "new session", "transcode started", "terminated", "server lost", "server back", "token rejected", "diagnostic"
	Time       string `json:"time"`                 // RFC 3339, when it was sent
	Title      string `json:"title"`                // one line
	Body       string `json:"body"`                 // more lines, may be empty
	Server     string `json:"server,omitempty"`     // the session's server, when about one session
	User       string `json:"user,omitempty"`       // the session's user
	SessionKey string `json:"sessionKey,omitempty"` // "server/sessionKey"
	Important  bool   `json:"important"`            // a failure or diagnostic the admin should not miss
}

type webhook struct {
	url, secret string
}

// Send posts n as a WebhookBody.
func (c webhook) Send(ctx context.Context, n app.Notification) error {
	b, err := json.Marshal(WebhookBody{App: "Plex Warden", Kind: n.Kind.String(), Time: timeNow().UTC().Format("2006-01-02T15:04:05Z07:00"),
		Title: n.Title, Body: n.Body, Server: n.Server, User: n.User, SessionKey: n.SessionKey, Important: n.Sticky})
	if err != nil {
		return err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if c.secret != "" {
		h.Set("Authorization", c.secret)
	}
	return post(ctx, c.url, h, string(b))
}
