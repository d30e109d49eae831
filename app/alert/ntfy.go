package alert

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/plexwarden/plexwarden/app"
)

// ntfy (https://ntfy.sh, or a self-hosted server) needs no account: a
// POST to the topic URL is a push to every phone subscribed to it. The
// optional secret is an access token ("tk_…", sent as Bearer) or
// "user:password" (sent as Basic).
func init() {
	register(Kind{Type: "ntfy", Label: "ntfy", SecretLabel: "Access token or user:password (optional)",
		Check: func(ch app.AlertChannel) error { return checkURL(ch.URL) },
		New:   func(ch app.AlertChannel, secret string) Sender { return ntfy{url: ch.URL, secret: secret} }})
}

type ntfy struct {
	url, secret string
}

// Send publishes n: the title as ntfy's Title, the body as the message;
// sticky ones (failures, diagnostics) with high priority.
func (c ntfy) Send(ctx context.Context, n app.Notification) error {
	h := http.Header{}
	h.Set("Title", n.Title)
	h.Set("Tags", "tv")
	if n.Sticky {
		h.Set("Priority", "high")
		h.Set("Tags", "warning")
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	if c.secret != "" {
		if strings.Contains(c.secret, ":") && !strings.HasPrefix(c.secret, "tk_") {
			h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.secret)))
		} else {
			h.Set("Authorization", "Bearer "+c.secret)
		}
	}
	body := n.Body
	if body == "" {
		body = n.Title
	}
	return post(ctx, c.url, h, body)
}
