package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/alert"
)

// watchAlerts is watch's notifier: the alert channels of config.json
// (ntfy, webhook, email) with their keyring secrets, as in the desktop
// app; watch has no desktop popups. A channel that cannot be used, and
// every failed delivery, is reported as a notice.
type watchAlerts struct {
	Notifier *app.Notifier
	alerts   *alert.Dispatcher
	names    []string
}

func newWatchAlerts(ctx context.Context, env Env, cfg app.Config, log *slog.Logger, out *watchOutput) *watchAlerts {
	w := &watchAlerts{
		Notifier: app.NewNotifier(app.Notifications{}, app.NotifierOptions{}),
		alerts: alert.New(alert.Options{Log: log, OnError: func(ch string, err error) {
			out.notice(env.Stderr, "alert", fmt.Sprintf("channel %q: %v", ch, err))
		}}),
	}
	if len(cfg.Alerts) == 0 {
		return w
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	secrets, err := alert.LoadSecrets(sctx, secretsOf(env), cfg.Alerts)
	if err != nil {
		out.notice(env.Stderr, "alert", err.Error())
	}
	chs, err := alert.FromConfig(cfg.Alerts, secrets)
	if err != nil {
		out.notice(env.Stderr, "alert", err.Error())
	}
	for _, c := range chs {
		w.names = append(w.names, c.Name)
	}
	w.alerts.SetChannels(chs)
	w.Notifier.SetConfig(w.alerts.Kinds())
	return w
}

// summary names the channels in use, for the start line ("" for none).
func (w *watchAlerts) summary() string {
	if len(w.names) == 0 {
		return ""
	}
	return " and alerts to " + strings.Join(w.names, ", ")
}

// run delivers notifications until ctx ends.
func (w *watchAlerts) run(ctx context.Context) {
	w.alerts.Start(ctx)
	w.Notifier.Run(ctx, w.alerts.Send)
	w.alerts.Wait()
}
