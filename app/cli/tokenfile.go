package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex"
)

// Where the commands find server tokens when there is no keyring (a
// server without a desktop session): a file named by --token-file or
// PLEX_TOKEN_FILE, or the systemd credential CredentialName that a
// service unit loads with LoadCredential=.
const (
	// TokenFileEnv names the token file, like --token-file.
	TokenFileEnv = "PLEX_TOKEN_FILE"
	// CredentialName is the systemd credential read from
	// $CREDENTIALS_DIRECTORY when neither --token-file nor PLEX_TOKEN_FILE
	// is given (LoadCredential=plexwarden-tokens:/etc/plexwarden/tokens).
	CredentialName = "plexwarden-tokens"
)

// noKeyringHelp names the alternatives to the keyring; login's refusal and
// the lines of skipped servers end with it.
const noKeyringHelp = "Without a keyring (e.g. on a server), keep the tokens in a file instead:\n" +
	"  plexwarden login --no-browser --token-file /etc/plexwarden/tokens\n" +
	"and give the same file to the other commands with --token-file FILE or PLEX_TOKEN_FILE=FILE;\n" +
	"a systemd service loads it with LoadCredential=" + CredentialName + ":FILE (README, \"Run on a server\").\n" +
	"Or set PLEX_URL and PLEX_TOKEN for one server."

// tokenSource is where a command reads (login: writes) server tokens.
type tokenSource struct {
	store app.SecretStore
	where string // "the system keyring", "the token file /x", …
	file  bool   // a token file or credential rather than the keyring
}

// tokenFileFlag adds --token-file FILE. The returned func resolves, in
// order: --token-file, $PLEX_TOKEN_FILE, the systemd credential, the
// store a test supplied in Env.Secrets, the OS keyring. A named file must
// exist and be private (mode 0600 or stricter); the credential is
// systemd's to protect and is read-only.
func tokenFileFlag(env Env, fs *flag.FlagSet) func() (tokenSource, error) {
	file := fs.String("token-file", "", "read the server tokens from FILE instead of the system keyring (default $"+TokenFileEnv+
		", else the systemd credential "+CredentialName+"); written by \"plexwarden login --token-file FILE\"")
	return func() (tokenSource, error) {
		path := *file
		if path == "" {
			path = env.Getenv(TokenFileEnv)
		}
		if path != "" {
			if err := app.CheckTokenFileMode(path); err != nil {
				return tokenSource{}, err
			}
			return tokenSource{store: &app.TokenFile{Path: path}, where: "the token file " + path, file: true}, nil
		}
		if dir := env.Getenv("CREDENTIALS_DIRECTORY"); dir != "" {
			cred := filepath.Join(dir, CredentialName)
			if _, err := os.Stat(cred); err == nil {
				return tokenSource{store: &app.TokenFile{Path: cred, ReadOnly: true}, where: "the systemd credential " + CredentialName, file: true}, nil
			}
		}
		return tokenSource{store: secretsOf(env), where: "the system keyring"}, nil
	}
}

// noTokenError is why a configured server has no token; the command skips
// that server and goes on with the others.
type noTokenError struct {
	server string
	where  string
	err    error // ErrNoSecret, or why the store could not be read
}

func (e *noTokenError) Error() string {
	switch {
	case errors.Is(e.err, app.ErrNoSecret):
		return fmt.Sprintf("server %q: no token in %s (sign in again with \"plexwarden login\")", e.server, e.where)
	case errors.Is(e.err, app.ErrKeyringUnavailable):
		return fmt.Sprintf("server %q: no token: %v (give the token file with --token-file FILE or %s=FILE)", e.server, e.err, TokenFileEnv)
	}
	return fmt.Sprintf("server %q: no token: %v", e.server, e.err)
}

func (e *noTokenError) Unwrap() error { return e.err }

// errPartial marks a command that did part of its work: some servers
// answered, others were skipped or failed. Main exits with ExitPartial.
var errPartial = errors.New("partial")

// ExitPartial is the exit code of a command that listed what it could
// reach but not every server (a server unreachable, its token rejected or
// missing).
const ExitPartial = 3

// partialError is errPartial with the summary line Main prints.
type partialError struct{ failed, total int }

func (e *partialError) Error() string {
	return fmt.Sprintf("%d of %d servers could not be listed (see above); exit code %d", e.failed, e.total, ExitPartial)
}

func (e *partialError) Is(target error) bool { return target == errPartial }

// serverProblem is one line of `sessions --json`'s stderr: a server that
// was skipped or failed.
type serverProblem struct {
	Server string `json:"server"`
	// State is "no-token", "unreachable", "token-rejected", "timeout" or
	// "error".
	State string `json:"state"`
	Error string `json:"error"`
}

// reportProblem writes a skipped or failed server to stderr: a sentence,
// or with --json one JSON object a line.
func reportProblem(env Env, asJSON bool, server string, err error) {
	if !asJSON {
		fmt.Fprintf(env.Stderr, "plexwarden: %s; skipped\n", Explain(err))
		return
	}
	b, _ := json.Marshal(serverProblem{Server: server, State: problemState(err), Error: Explain(err)})
	fmt.Fprintf(env.Stderr, "%s\n", b)
}

// problemState names a server's failure for scripts.
func problemState(err error) string {
	var nt *noTokenError
	switch {
	case errors.As(err, &nt):
		return "no-token"
	case errors.Is(err, plex.ErrUnauthorized):
		return "token-rejected"
	case errors.Is(err, plex.ErrUnreachable):
		return "unreachable"
	case errors.Is(err, plex.ErrTimeout):
		return "timeout"
	}
	return "error"
}

// skipNoToken prints a "no-token" connection line for each server without
// a token and returns the others; with none left it fails, saying why.
func skipNoToken(out *watchOutput, ts []target) ([]target, error) {
	var live []target
	var errs []error
	for _, t := range ts {
		if t.NoToken == nil {
			live = append(live, t)
			continue
		}
		errs = append(errs, t.NoToken)
		out.write(watchLine{Time: time.Now(), Kind: "connection", Server: t.Name, Event: "no-token", Detail: t.NoToken.Error() + "; not watched"})
	}
	if len(live) == 0 {
		return nil, errors.Join(errs...)
	}
	return live, nil
}
