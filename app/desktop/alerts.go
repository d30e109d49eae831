package desktop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/alert"
)

// keyringWait bounds reading the alert channels' secrets at start.
const keyringWait = 5 * time.Second

// loadAlertSecrets reads the configured channels' secrets once.
func (a *App) loadAlertSecrets(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, keyringWait)
	defer cancel()
	got, err := alert.LoadSecrets(ctx, a.Ctrl.Secrets(), a.Ctrl.Config().Alerts)
	if err != nil {
		a.log.Warn("alert channel secrets", "err", err)
	}
	a.secretsMu.Lock()
	a.alertSecrets = got
	a.secretsMu.Unlock()
}

// AlertChannels returns the configured alert channels (ui AlertsBackend).
func (a *App) AlertChannels() []app.AlertChannel { return a.Ctrl.Config().Alerts }

// HasAlertSecret reports whether the channel named name has a secret
// stored (Settings shows "stored" instead of the secret itself).
func (a *App) HasAlertSecret(name string) bool {
	a.secretsMu.Lock()
	defer a.secretsMu.Unlock()
	return a.alertSecrets[name] != ""
}

// SaveAlertChannel adds ch, or replaces the channel named old, and applies
// it. secret nil keeps the stored one ("" removes it). The secret goes to
// the keyring only; if the keyring is unavailable the channel is saved,
// the secret kept for this run, and the error says so.
func (a *App) SaveAlertChannel(ctx context.Context, old string, ch app.AlertChannel, secret *string) error {
	if err := alert.Validate(ch); err != nil {
		return err
	}
	cfg := a.Ctrl.Config()
	idx := -1
	for i, c := range cfg.Alerts {
		if old != "" && c.Name == old {
			idx = i
		} else if c.Name == ch.Name {
			return fmt.Errorf("there is already a channel named %q", ch.Name)
		}
	}
	if old != "" && idx < 0 {
		return fmt.Errorf("the channel %q is no longer there", old)
	}
	a.secretsMu.Lock()
	value := a.alertSecrets[old]
	a.secretsMu.Unlock()
	if secret != nil {
		value = *secret
	}
	store := a.Ctrl.Secrets()
	var keyErr error
	if value != "" {
		keyErr = store.Set(ctx, alert.SecretKey(ch.Name), value)
		if keyErr != nil && !errors.Is(keyErr, app.ErrKeyringUnavailable) {
			return fmt.Errorf("could not store the secret in the keyring: %w", keyErr)
		}
	} else if err := store.Delete(ctx, alert.SecretKey(ch.Name)); err != nil && !errors.Is(err, app.ErrNoSecret) {
		return fmt.Errorf("could not remove the secret from the keyring: %w", err)
	}
	err := a.Ctrl.UpdateConfig(func(c *app.Config) {
		if idx >= 0 {
			c.Alerts[idx] = ch
		} else {
			c.Alerts = append(c.Alerts, ch)
		}
	})
	if err != nil {
		return err
	}
	if old != "" && old != ch.Name {
		_ = store.Delete(ctx, alert.SecretKey(old))
	}
	a.secretsMu.Lock()
	delete(a.alertSecrets, old)
	if value != "" {
		a.alertSecrets[ch.Name] = value
	} else {
		delete(a.alertSecrets, ch.Name)
	}
	a.secretsMu.Unlock()
	a.NotificationsChanged()
	if keyErr != nil {
		return fmt.Errorf("saved, but %w: the secret is kept for this run only", keyErr)
	}
	return nil
}

// RemoveAlertChannel deletes the channel named name and its secret.
func (a *App) RemoveAlertChannel(ctx context.Context, name string) error {
	err := a.Ctrl.UpdateConfig(func(c *app.Config) {
		for i, ch := range c.Alerts {
			if ch.Name == name {
				c.Alerts = append(c.Alerts[:i], c.Alerts[i+1:]...)
				return
			}
		}
	})
	if err != nil {
		return err
	}
	a.secretsMu.Lock()
	delete(a.alertSecrets, name)
	a.secretsMu.Unlock()
	a.NotificationsChanged()
	if err := a.Ctrl.Secrets().Delete(ctx, alert.SecretKey(name)); err != nil && !errors.Is(err, app.ErrNoSecret) {
		return fmt.Errorf("removed, but its secret could not be deleted from the keyring: %w", err)
	}
	return nil
}

// TestAlertChannel sends a test notification through ch now: a real
// session of st (or a realistic sample when nothing plays). secret nil
// uses the stored one.
func (a *App) TestAlertChannel(ctx context.Context, ch app.AlertChannel, secret *string, st *app.State) error {
	a.secretsMu.Lock()
	value := a.alertSecrets[ch.Name]
	a.secretsMu.Unlock()
	if secret != nil {
		value = *secret
	}
	c, err := alert.Build(ch, value)
	if err != nil {
		return err
	}
	return alert.Test(ctx, c, alert.TestNotification(st))
}

// AlertStatus is the last failure of the channel named name in words, or
// "" (ui AlertsBackend).
func (a *App) AlertStatus(name string) string { return a.Alerts.Status(name) }
