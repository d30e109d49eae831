package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// ConfigVersion is the schema version written by this build.
const ConfigVersion = 1

// Config is everything Plex Warden keeps between runs, except secrets:
// tokens live in the OS keyring (SecretStore), never here.
type Config struct {
	Version       int            `json:"version"`
	ClientID      string         `json:"clientId,omitempty"` // our X-Plex-Client-Identifier, generated once
	Servers       []ServerConfig `json:"servers"`
	Notifications Notifications  `json:"notifications"`
	StartAtLogin  bool           `json:"startAtLogin"`
	RulesPaused   bool           `json:"rulesPaused"`
	Reconcile     Duration       `json:"reconcileInterval,omitempty"` // periodic /status/sessions poll; default 30s
	// Alerts are the channels besides desktop popups (ntfy, webhook,
	// email); their secrets live in the keyring, never here.
	Alerts []AlertChannel `json:"alerts,omitempty"`
}

// AlertChannel is one place notifications go besides desktop popups. Its
// secret (ntfy token, webhook Authorization header, SMTP password) is kept
// in the OS keyring under the channel's name, never in this file.
type AlertChannel struct {
	Name string `json:"name"` // unique, as the admin calls it ("phone")
	// Type is "ntfy" (URL is the topic, e.g. https://ntfy.sh/my-plex),
	// "webhook" (URL receives a JSON POST) or "email" (SMTP).
	Type string `json:"type"`
	Off  bool   `json:"off,omitempty"` // kept but not used
	URL  string `json:"url,omitempty"`
	// Email: SMTP is host:port (587 with STARTTLS, 465 with TLS, 25);
	// User is the SMTP login, empty for none.
	SMTP string   `json:"smtp,omitempty"`
	From string   `json:"from,omitempty"`
	To   []string `json:"to,omitempty"`
	User string   `json:"user,omitempty"`
	// Kinds are the kinds of notification sent there.
	Kinds Notifications `json:"kinds"`
	// PerMinute is the most sent in any minute (0: DefaultAlertsPerMinute);
	// the rest are summed up in one message when the minute allows.
	PerMinute int `json:"perMinute,omitempty"`
}

// DefaultAlertsPerMinute is an alert channel's rate limit when it sets none.
const DefaultAlertsPerMinute = 5

// Clone returns a copy of c that shares no slices with it.
func (c Config) Clone() Config {
	c.Servers = cloneSlice(c.Servers)
	for i := range c.Servers {
		c.Servers[i].Connections = cloneSlice(c.Servers[i].Connections)
	}
	c.Alerts = cloneSlice(c.Alerts)
	for i := range c.Alerts {
		c.Alerts[i].To = cloneSlice(c.Alerts[i].To)
	}
	return c
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append([]T(nil), s...)
}

// ServerConfig is one Plex Media Server to watch.
type ServerConfig struct {
	Name      string `json:"name"`
	URL       string `json:"url"`
	MachineID string `json:"machineId,omitempty"` // keyring entry key once known
	Insecure  bool   `json:"insecure,omitempty"`  // skip TLS verification (shown as a warning)
	CAFile    string `json:"caFile,omitempty"`
	// Connections are the server's addresses as plex.tv lists them (set by
	// sign-in); when the one in URL stops answering, the monitor probes
	// these and moves to the best that answers. Empty for servers added
	// by URL.
	Connections []ServerConnection `json:"connections,omitempty"`
}

// ServerConnection is one address of a server as plex.tv lists it.
type ServerConnection struct {
	URI   string `json:"uri"`
	Local bool   `json:"local,omitempty"` // on the server's LAN
	Relay bool   `json:"relay,omitempty"` // through plex.tv's relay
}

// Notifications switches each kind of desktop notification on or off.
type Notifications struct {
	NewSession       bool `json:"newSession"`
	TranscodeStarted bool `json:"transcodeStarted"`
	Terminated       bool `json:"terminated"`
	ServerLost       bool `json:"serverLost"` // lost and back
	TokenRejected    bool `json:"tokenRejected"`
	Diagnostics      bool `json:"diagnostics"` // client-identifier collisions, transcode storms
}

// Duration is a time.Duration written as "30s" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "30s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("bad duration %q (use e.g. \"30s\" or \"5m\")", s)
		}
		*d = Duration(v)
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("bad duration %s", b)
	}
	*d = Duration(n * float64(time.Second))
	return nil
}

// DefaultConfig is the configuration of a first run: no servers (the demo
// server is used), every notification on but "new session" (a busy server
// would pop up all evening). A saved file keeps its own switches: they are
// always written, so an admin who turned new sessions on keeps them.
func DefaultConfig() Config {
	return Config{
		Version:       ConfigVersion,
		Notifications: Notifications{TranscodeStarted: true, Terminated: true, ServerLost: true, TokenRejected: true, Diagnostics: true},
		Reconcile:     Duration(30 * time.Second),
	}
}

// ConfigError reports a configuration file that cannot be used. The file is
// left untouched.
type ConfigError struct {
	Path string
	Err  error
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("configuration file %s is not usable: %v (fix or move it away; it was not changed)", e.Path, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// DefaultConfigDir returns the per-user configuration directory
// (~/.config/plexwarden on Linux).
func DefaultConfigDir() (string, error) {
	if d := os.Getenv("PLEXWARDEN_CONFIG_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "plexwarden"), nil
}

// LoadConfig reads the configuration at path. A missing file gives
// DefaultConfig and no error; an unreadable or invalid file gives a
// *ConfigError naming the problem and is never replaced.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return DefaultConfig(), nil
	}
	if err != nil {
		return Config{}, &ConfigError{Path: path, Err: err}
	}
	cfg := DefaultConfig()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, &ConfigError{Path: path, Err: describeJSONError(b, err)}
	}
	end := int(dec.InputOffset())
	if _, err := dec.Token(); err != io.EOF {
		// A second value or a stray bracket: the next save would drop it.
		end += len(b[end:]) - len(bytes.TrimLeft(b[end:], " \t\r\n"))
		line, col := 1, 1
		for _, c := range b[:end] {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return Config{}, &ConfigError{Path: path, Err: fmt.Errorf("line %d, column %d: extra data after the JSON object", line, col)}
	}
	if cfg.Version > ConfigVersion {
		return Config{}, &ConfigError{Path: path, Err: fmt.Errorf("written by a newer Plex Warden (schema %d, this build reads up to %d)", cfg.Version, ConfigVersion)}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, &ConfigError{Path: path, Err: err}
	}
	cfg.Version = ConfigVersion
	return cfg, nil
}

// describeJSONError adds the line and column to a JSON syntax error.
func describeJSONError(b []byte, err error) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("the file is empty")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		for _, c := range b[:min(int(se.Offset), len(b))] {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return fmt.Errorf("line %d, column %d: %v", line, col, err)
	}
	return err
}

// Validate checks the configuration's values.
func (c *Config) Validate() error {
	names := map[string]bool{}
	for i, s := range c.Servers {
		if s.Name == "" {
			return fmt.Errorf("servers[%d]: no name", i)
		}
		if names[s.Name] {
			return fmt.Errorf("servers[%d]: name %q used twice", i, s.Name)
		}
		names[s.Name] = true
		if s.URL == "" {
			return fmt.Errorf("server %q: no url", s.Name)
		}
	}
	if c.Reconcile != 0 && time.Duration(c.Reconcile) < time.Second {
		return fmt.Errorf("reconcileInterval %s is too short (at least 1s)", time.Duration(c.Reconcile))
	}
	return nil
}

// SaveConfig writes cfg to path atomically (temporary file, fsync, rename)
// with mode 0600, keeping the previous file as path+".bak".
func SaveConfig(path string, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg.Version = ConfigVersion
	return SaveJSONWithBackup(path, cfg)
}

// SaveJSONWithBackup writes v as indented JSON to path atomically
// (WriteFileAtomic, mode 0600), creating its directory. An existing file with
// other content is kept as path+".bak" first, whether it was valid or not,
// so a save never loses what was there. The settings, the rules file and
// the rules' state (cool-downs, quota time) share it.
func SaveJSONWithBackup(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if old, err := os.ReadFile(path); err == nil && !bytes.Equal(old, b) {
		if err := WriteFileAtomic(path+".bak", old); err != nil {
			return fmt.Errorf("keeping a backup of %s: %w", path, err)
		}
	}
	return WriteFileAtomic(path, b)
}

// WriteFileAtomic writes b to path (mode 0600) through a synced temporary
// file in the same directory, so a crash leaves either the old or the new
// file. The rules file and the settings share it.
func WriteFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
