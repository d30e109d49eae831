package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plextv"
)

// loginHooks are the parts of login and logout that tests replace. They
// live here rather than in Env so the command stays self-contained.
var loginHooks = struct {
	// secrets returns the token store: the OS keyring. There is no
	// fallback to memory: a token kept for one run is no sign-in.
	secrets func() app.SecretStore
	// openBrowser shows url in the user's browser.
	openBrowser func(url string) error
	// pollInterval is how often plex.tv is asked whether the PIN was approved.
	pollInterval time.Duration
}{
	secrets:      func() app.SecretStore { return app.NewKeyring() },
	openBrowser:  openBrowser,
	pollInterval: plextv.DefaultPollInterval,
}

// openBrowser starts the desktop's URL opener with url as a plain argument
// (never through a shell: the URL holds "&" and "#"). A runtime.GOOS switch
// rather than tagged files because the whole command lives in this file.
func openBrowser(url string) error {
	if !strings.HasPrefix(url, "https://") {
		return fmt.Errorf("refusing to open %q", url)
	}
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		cmd = exec.Command("open", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	// The opener hands the URL to the browser and exits; reap it.
	go func() { _ = cmd.Wait() }()
	return nil
}

// loginServer is one owned server login found, and what became of it.
type loginServer struct {
	res  plextv.Resource
	conn plextv.Connection
	err  error // probing failed
}

func cmdLogin(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "login", "[--no-browser] [--token-file FILE]",
		"Sign in with your Plex account in the browser. Plex Warden then finds the servers you own,\n"+
			"picks the best address of each, keeps each server's token in the system keyring (or in\n"+
			"FILE, mode 0600, with --token-file) and adds the servers to the configuration (without the token).")
	noBrowser := fs.Bool("no-browser", false, "only print the sign-in address, do not open a browser")
	tokenFile := fs.String("token-file", "", "keep the tokens in FILE (mode 0600) instead of the system keyring, for a computer without one (default $"+TokenFileEnv+")")
	tvURL := fs.String("plextv", "", "plex.tv address (for tests)")
	fs.Usage = func() { // as newFlagSet's, without the hidden --plextv
		fmt.Fprintf(env.Stderr, "Usage: plexwarden login [--no-browser] [--token-file FILE]\n\nSign in with your Plex account in the browser; see plexwarden --help.\n\nOptions:\n")
		for _, name := range []string{"no-browser", "token-file"} {
			fmt.Fprintf(env.Stderr, "  -%s\n    \t%s\n", name, fs.Lookup(name).Usage)
		}
	}
	if err := parseNone(env, fs, args); err != nil {
		return err
	}
	if *tokenFile == "" {
		*tokenFile = env.Getenv(TokenFileEnv)
	}
	// Where the tokens will go, checked before the user signs in.
	src, err := loginStore(ctx, *tokenFile)
	if err != nil {
		return err
	}

	dir, err := app.DefaultConfigDir()
	if err != nil {
		return fmt.Errorf("no configuration directory: %w", err)
	}
	path := filepath.Join(dir, "config.json")
	if _, err := app.LoadConfig(path); err != nil {
		return err // refuse before the user signs in, not after
	}
	id, err := app.LoadClientID(dir)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	info := plex.ClientInfo{ID: id, Product: plex.DefaultProduct, Version: env.Version, DeviceName: host}
	tv := &plextv.Client{BaseURL: *tvURL, Info: info}

	token, err := signIn(ctx, env, tv, !*noBrowser)
	if err != nil {
		return err
	}
	if u, err := tv.User(ctx, token); err == nil && u.Username != "" {
		fmt.Fprintf(env.Stdout, "Signed in to plex.tv as %s.\n", u.Username)
	} else {
		fmt.Fprintln(env.Stdout, "Signed in to plex.tv.")
	}

	servers, err := tv.Resources(ctx, token)
	if err != nil {
		return tvError("cannot list your servers", err)
	}
	var owned []plextv.Resource
	for _, r := range servers {
		if r.Owned {
			owned = append(owned, r)
		}
	}
	found := make([]loginServer, len(owned))
	for i, p := range plextv.ProbeServers(ctx, owned, plextv.ProbeOptions{Info: info}) {
		found[i] = loginServer{res: p.Resource, conn: p.Connection, err: p.Err}
	}
	if ctx.Err() != nil {
		return errors.New("cancelled; nothing was saved")
	}
	printServers(env.Stdout, servers, found)
	return saveServers(ctx, env, path, found, src)
}

// loginStore is where login keeps the tokens: the token file when one is
// named, else the system keyring, which must work. Without a keyring,
// login refuses before the sign-in and names the alternatives: a token
// kept for this run only would be no sign-in at all.
func loginStore(ctx context.Context, file string) (tokenSource, error) {
	if file != "" {
		if err := checkWritable(file); err != nil {
			return tokenSource{}, err
		}
		return tokenSource{store: &app.TokenFile{Path: file}, where: "the token file " + file, file: true}, nil
	}
	store := loginHooks.secrets()
	if _, err := store.Get(ctx, "plexwarden-keyring-check"); errors.Is(err, app.ErrKeyringUnavailable) {
		return tokenSource{}, fmt.Errorf("cannot keep the server tokens: %v.\n%s\nNothing was changed", err, noKeyringHelp)
	}
	return tokenSource{store: store, where: "the system keyring"}, nil
}

// checkWritable tells, before the sign-in, whether a token file can be
// written at path: its directory exists (or can be made) and takes a file.
func checkWritable(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("token file %s is a directory; name a file", path)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot write the token file %s: %v", path, errors.Unwrap(err))
	}
	f, err := os.CreateTemp(dir, ".plexwarden-check-*")
	if err != nil {
		return fmt.Errorf("cannot write the token file %s: %v", path, errors.Unwrap(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// signIn runs the PIN flow: create, show (and open) the auth URL, wait.
func signIn(ctx context.Context, env Env, tv *plextv.Client, browser bool) (string, error) {
	pin, err := tv.CreatePIN(ctx)
	if err != nil {
		return "", tvError("cannot start the sign-in", err)
	}
	url := tv.AuthURL(pin)
	fmt.Fprintf(env.Stdout, "Open this page, sign in to Plex and allow Plex Warden:\n\n  %s\n\n", url)
	if browser {
		if err := loginHooks.openBrowser(url); err != nil {
			fmt.Fprintf(env.Stderr, "Could not open a browser (%v); open the page above yourself.\n", err)
		}
	}
	until := ""
	if !pin.ExpiresAt.IsZero() {
		until = " (the page works until " + pin.ExpiresAt.Local().Format("15:04") + ")"
	}
	fmt.Fprintf(env.Stdout, "Waiting for you to approve Plex Warden%s…\n", until)
	token, err := tv.PollPIN(ctx, pin, loginHooks.pollInterval)
	switch {
	case err == nil:
		return token, nil
	case errors.Is(err, plextv.ErrPINExpired):
		return "", fmt.Errorf("%w; nothing was changed. Run \"plexwarden login\" again for a new one", plextv.ErrPINExpired)
	case errors.Is(err, context.Canceled):
		return "", errors.New("sign-in cancelled; nothing was changed")
	}
	return "", tvError("the sign-in did not complete", err)
}

// tvError words a failed plex.tv call. It formats err with %v on purpose:
// Explain would add a Plex Media Server hint to a wrapped ErrUnreachable,
// which is wrong for plex.tv.
func tvError(what string, err error) error {
	switch {
	case errors.Is(err, plex.ErrUnauthorized):
		return fmt.Errorf("%s: plex.tv rejected the sign-in (%v); run \"plexwarden login\" again", what, err)
	case errors.Is(err, plex.ErrUnreachable), errors.Is(err, plex.ErrTimeout):
		return fmt.Errorf("%s: cannot reach plex.tv (%v); check the internet connection", what, err)
	}
	return fmt.Errorf("%s: %v", what, err)
}

// printServers lists the account's servers, owned first, with whether
// Plex Warden can terminate streams on them and how each is reached.
func printServers(w io.Writer, servers []plextv.Resource, found []loginServer) {
	if len(servers) == 0 {
		fmt.Fprintln(w, "\nThis Plex account has no servers.")
		return
	}
	byID := map[string]loginServer{}
	for _, f := range found {
		byID[f.res.ClientIdentifier] = f
	}
	fmt.Fprintln(w, "\nServers on this account:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tOWNER\tTERMINATE\tREACHED AT")
	for _, r := range servers {
		owner, terminate, where := "you", "yes", ""
		if !r.Owned {
			owner, terminate = orDash(r.SourceTitle), "no"
			where = "not added: shared with you (Plex Warden needs the owner's token)"
		} else if f := byID[r.ClientIdentifier]; f.err != nil {
			where = "not added: no address answered"
		} else {
			where = fmt.Sprintf("%s (%s)", f.conn.URI, f.conn.Kind())
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.Name, owner, terminate, where)
	}
	tw.Flush()
	for _, f := range found {
		var pe *plextv.ProbeError
		switch {
		case f.err == nil:
			continue
		case errors.As(f.err, &pe) && len(pe.Results) > 0:
			fmt.Fprintf(w, "\n%s did not answer:\n", f.res.Name)
			for _, r := range pe.Results {
				fmt.Fprintf(w, "  %s: %s\n", r.Connection.URI, r.Reason())
			}
		default:
			fmt.Fprintf(w, "\n%s: %v\n", f.res.Name, f.err)
		}
		fmt.Fprintln(w, "Start it (or check its Remote Access settings) and run \"plexwarden login\" again.")
	}
}

// saveServers stores each reachable owned server's token in src (the
// keyring or the token file) under its machineIdentifier and adds the
// server to the configuration. A server whose token cannot be stored is
// not added.
func saveServers(ctx context.Context, env Env, path string, found []loginServer, src tokenSource) error {
	store := src.store
	var toSave []app.ServerConfig
	var failed []string
	var keyringErr error
	for _, f := range found {
		if f.err != nil {
			continue
		}
		if f.res.AccessToken == "" {
			fmt.Fprintf(env.Stderr, "plex.tv gave no token for %q; it was not added.\n", f.res.Name)
			continue
		}
		if err := store.Set(ctx, f.res.ClientIdentifier, f.res.AccessToken); err != nil {
			if errors.Is(err, app.ErrKeyringUnavailable) {
				keyringErr = err
			}
			fmt.Fprintf(env.Stderr, "Could not store the token of %q in %s: %v\n", f.res.Name, src.where, err)
			failed = append(failed, f.res.Name)
			continue
		}
		name := f.res.Name
		if name == "" {
			name = f.res.ClientIdentifier
		}
		toSave = append(toSave, app.ServerConfig{Name: name, URL: f.conn.URI, MachineID: f.res.ClientIdentifier, Connections: app.ConnectionsOf(f.res)})
	}
	help := ""
	if keyringErr != nil {
		help = ".\n" + noKeyringHelp
	}
	if len(toSave) == 0 {
		if len(failed) > 0 {
			return fmt.Errorf("no server was added: the tokens of %s could not be stored%s", strings.Join(failed, ", "), help)
		}
		return errors.New("no server was added: the account owns no server that answered (Plex Warden needs a server you own)")
	}

	// Reload: the desktop app may have changed the file while the user
	// was signing in.
	cfg, err := app.LoadConfig(path)
	if err != nil {
		return err
	}
	var stale []string
	for i, sc := range toSave {
		var keys []string
		toSave[i].Name, keys = mergeServer(&cfg, sc)
		stale = append(stale, keys...)
	}
	if err := app.SaveConfig(path, cfg); err != nil {
		return fmt.Errorf("saving the configuration: %w", err)
	}
	for _, key := range stale {
		_ = store.Delete(ctx, key) // an old entry's token under its URL key
	}
	fmt.Fprintln(env.Stdout)
	for _, sc := range toSave {
		fmt.Fprintf(env.Stdout, "Added %q at %s.\n", sc.Name, sc.URL)
	}
	fmt.Fprintf(env.Stdout, "The server tokens are in %s.\n", src.where)
	if src.file {
		fmt.Fprintf(env.Stdout, "Configuration saved to %s. Give the commands the token file: "+
			"plexwarden watch --token-file %s (or %s=%s).\n", path, tf(src), TokenFileEnv, tf(src))
	} else {
		fmt.Fprintf(env.Stdout, "Configuration saved to %s. Start Plex Warden with \"plexwarden\".\n", path)
	}
	if len(failed) > 0 {
		return fmt.Errorf("the tokens of %s could not be stored; those servers were not added%s", strings.Join(failed, ", "), help)
	}
	return nil
}

// mergeServer puts sc into cfg. It replaces, in place, the entry with the
// same machineIdentifier or a manually added one (no machineIdentifier) at
// the same URL, keeping the name the user knows it by; TLS overrides of
// the old entry are dropped, as plex.tv's addresses verify normally.
// Otherwise it appends sc, renamed "Name (2)" … if another server already
// has its name. It returns the name sc got and the keyring keys of replaced
// entries that are no longer used.
func mergeServer(cfg *app.Config, sc app.ServerConfig) (name string, staleKeys []string) {
	at := -1
	kept := cfg.Servers[:0:0]
	for _, s := range cfg.Servers {
		same := s.MachineID != "" && s.MachineID == sc.MachineID || s.MachineID == "" && s.URL == sc.URL
		if !same {
			kept = append(kept, s)
			continue
		}
		if at < 0 {
			at = len(kept)
			sc.Name = s.Name
		}
		if key := serverSecretKey(s); key != serverSecretKey(sc) {
			staleKeys = append(staleKeys, key)
		}
	}
	taken := map[string]bool{}
	for _, s := range kept {
		taken[s.Name] = true
	}
	base := sc.Name
	for n := 2; taken[sc.Name]; n++ {
		sc.Name = fmt.Sprintf("%s (%d)", base, n)
	}
	if at < 0 {
		cfg.Servers = append(kept, sc)
	} else {
		cfg.Servers = append(kept[:at], append([]app.ServerConfig{sc}, kept[at:]...)...)
	}
	return sc.Name, staleKeys
}

// serverSecretKey is the keyring key of a configured server; it must match
// the controller's (app/controller.go secretKey): the machineIdentifier,
// or "url:<url>" for a server added before it was known.
func serverSecretKey(s app.ServerConfig) string {
	if s.MachineID != "" {
		return s.MachineID
	}
	return "url:" + s.URL
}

func cmdLogout(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "logout", "[--token-file FILE]",
		"Delete the tokens of every configured server from the system keyring (or from FILE). The servers stay\n"+
			"in the configuration; sign in again with \"plexwarden login\".")
	tokenFile := fs.String("token-file", "", "delete them from FILE instead of the system keyring (default $"+TokenFileEnv+")")
	if err := parseNone(env, fs, args); err != nil {
		return err
	}
	if *tokenFile == "" {
		*tokenFile = env.Getenv(TokenFileEnv)
	}
	dir, err := app.DefaultConfigDir()
	if err != nil {
		return fmt.Errorf("no configuration directory: %w", err)
	}
	cfg, err := app.LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return err
	}
	if len(cfg.Servers) == 0 {
		fmt.Fprintln(env.Stdout, "No server is configured, so there is no token to remove.")
		return nil
	}
	store, where := loginHooks.secrets(), "the system keyring"
	if *tokenFile != "" {
		store, where = &app.TokenFile{Path: *tokenFile}, "the token file "+*tokenFile
	}
	var errs []error
	var lines []string
	removed := 0
	var keyringErr error
	for _, s := range cfg.Servers {
		key := serverSecretKey(s)
		_, getErr := store.Get(ctx, key)
		if err := store.Delete(ctx, key); err != nil {
			if errors.Is(err, app.ErrKeyringUnavailable) {
				keyringErr = err
			}
			errs = append(errs, fmt.Errorf("%q: %w", s.Name, err))
			continue
		}
		if getErr == nil {
			removed++
			lines = append(lines, fmt.Sprintf("Removed the token of %q from %s.", s.Name, where))
		} else {
			lines = append(lines, fmt.Sprintf("No token was stored for %q.", s.Name))
		}
	}
	// FallbackStore hides an unavailable keyring behind "nothing stored"
	// and a successful Delete; ask it before claiming any removal.
	if u, ok := store.(interface{ Unavailable() error }); ok && keyringErr == nil {
		keyringErr = u.Unavailable()
	}
	if keyringErr != nil {
		return fmt.Errorf("the system keyring cannot be used (%v), so no token was removed; "+
			"unlock it (on Linux: gnome-keyring or KWallet in your desktop session) and run \"plexwarden logout\" again, "+
			"or give the token file with --token-file FILE", keyringErr)
	}
	for _, l := range lines {
		fmt.Fprintln(env.Stdout, l)
	}
	if len(errs) > 0 {
		return fmt.Errorf("some tokens could not be removed: %w", errors.Join(errs...))
	}
	fmt.Fprintf(env.Stdout, "%d token(s) removed. The servers stay configured; sign in again with \"plexwarden login\".\n"+
		"Plex Warden stays listed under Authorized Devices in your Plex account settings until you remove it there.\n", removed)
	return nil
}

// tf is the path of a token-file source.
func tf(src tokenSource) string {
	if f, ok := src.store.(*app.TokenFile); ok {
		return f.Path
	}
	return ""
}
