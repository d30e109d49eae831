package rules

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Validate checks every rule; the error is a *FileError naming the rule
// and field.
func (f *File) Validate() error {
	if f.Version > Version {
		return &FileError{Rule: -1, Field: "version", Err: fmt.Errorf("schema %d is newer than this build reads (%d)", f.Version, Version)}
	}
	if f.Local != nil {
		if err := f.Local.validate(); err != nil {
			return err
		}
	}
	names := map[string]int{}
	for i := range f.Rules {
		r := &f.Rules[i]
		fail := func(field, format string, a ...any) error {
			return &FileError{Rule: i, Name: r.Name, Field: field, Err: fmt.Errorf(format, a...)}
		}
		name := strings.TrimSpace(r.Name)
		if name == "" {
			return fail("name", "every rule needs a name")
		}
		if j, ok := names[strings.ToLower(name)]; ok {
			return fail("name", "the name is already used by rules[%d]; names must be unique", j)
		}
		names[strings.ToLower(name)] = i
		if _, err := compile(*r); err != nil {
			var fe *FileError
			if errors.As(err, &fe) {
				fe.Rule, fe.Name = i, r.Name
				return fe
			}
			return fail("", "%v", err)
		}
	}
	return nil
}

// compiled is a validated rule with its lists parsed, ready to match.
type compiled struct {
	Rule
	allow, deny []netip.Prefix
	sched       *schedule
	minHeight   int
	codecs      map[string]bool
	scopePl     []string // lower-case patterns
	exemptPl    []string
	players     []string
	diag        DiagSource // for KindDiagnostic; nil never matches
	usage       usageFunc  // for KindQuota; nil never matches
	spec        *kindSpec  // the kind's spec
}

var placeholderRE = regexp.MustCompile(`\{[A-Za-z_]+\}`)

// compile checks r and parses its lists. Errors are *FileError with Field
// set (the caller adds the rule index).
func compile(r Rule) (*compiled, error) {
	fail := failField
	c := &compiled{Rule: r}
	sp, ok := specOf(r.Kind)
	if !ok {
		if r.Kind == "" {
			return nil, fail("kind", "missing; use one of %s", kindList())
		}
		return nil, fail("kind", "unknown kind %q; use one of %s", r.Kind, kindList())
	}
	switch r.Action {
	case ActionTerminate, ActionTerminateUser, ActionStopTranscode, ActionNotify, ActionLog:
	case "":
		c.Action = ActionTerminate
	default:
		return nil, fail("action", "unknown action %q; use terminate, terminateUser, stopTranscode, notify or log", r.Action)
	}
	if r.CoolDown < 0 || r.CoolDown.Std() > 7*24*time.Hour {
		return nil, fail("coolDown", "%s is out of range (0 to 168h, a week)", r.CoolDown.Std())
	}
	if r.CoolDown > 0 && c.Action == ActionNotify {
		return nil, fail("coolDown", "a notify-only rule stops no stream, so it cannot start a cool-down; use terminate, terminateUser or stopTranscode")
	}
	switch r.CoolDownScope {
	case "", CoolDownAll, CoolDownRule:
	default:
		return nil, fail("coolDownScope", "%q: use \"all\" (every new stream of the user) or \"rule\" (only streams in the rule's scope)", r.CoolDownScope)
	}
	for _, l := range []struct {
		field string
		list  []string
	}{{"scope.devices", r.Scope.Devices}, {"exempt.devices", r.Exempt.Devices}} {
		for i, d := range l.list {
			if strings.TrimSpace(d) == "" {
				return nil, fail(fmt.Sprintf("%s[%d]", l.field, i), "an empty machineIdentifier")
			}
		}
	}
	if r.Grace < 0 || r.Grace.Std() > 24*time.Hour {
		return nil, fail("grace", "%s is out of range (0 to 24h)", r.Grace.Std())
	}
	if err := checkTemplate(r.Message); err != nil {
		return nil, fail("message", "%v", err)
	}
	for k, v := range r.Messages {
		if strings.TrimSpace(k) == "" {
			return nil, fail("messages", "an empty player key")
		}
		if err := checkTemplate(v); err != nil {
			return nil, fail("messages."+k, "%v", err)
		}
	}
	var err error
	if c.scopePl, err = patterns("scope.players", r.Scope.Players); err != nil {
		return nil, err
	}
	if c.exemptPl, err = patterns("exempt.players", r.Exempt.Players); err != nil {
		return nil, err
	}
	for i, t := range r.Scope.MediaTypes {
		if !mediaTypes[strings.ToLower(t)] {
			return nil, fail(fmt.Sprintf("scope.mediaTypes[%d]", i), "unknown media type %q; use movie, episode, track, clip, photo, livetv, video or music", t)
		}
	}
	if r.Schedule != nil {
		if c.sched, err = parseSchedule(*r.Schedule); err != nil {
			return nil, err
		}
	}
	if c.allow, err = networks("allowNetworks", r.AllowNetworks); err != nil {
		return nil, err
	}
	if c.deny, err = networks("denyNetworks", r.DenyNetworks); err != nil {
		return nil, err
	}
	switch r.Pick {
	case "", PickNewest, PickOldest:
	default:
		return nil, fail("pick", "%q: use \"newest\" or \"oldest\"", r.Pick)
	}
	c.spec = sp
	if err := sp.validate(c); err != nil {
		return nil, err
	}
	return c, nil
}

func kindList() string {
	var ks []string
	for _, sp := range specs {
		ks = append(ks, string(sp.Kind))
	}
	return strings.Join(ks, ", ")
}

var mediaTypes = map[string]bool{"movie": true, "episode": true, "track": true, "clip": true, "photo": true, "livetv": true, "video": true, "music": true}

// MaxMessageLen is the longest message template a rule may have, in
// characters. Plex carries the message in the terminate request's query
// string: a very long one is refused by the server (414) and the stream
// keeps playing, and players show a few lines at most.
const MaxMessageLen = 500

// maxRendered bounds a message once its placeholders are filled in (a
// long title); longer ones are cut with "…".
const maxRendered = 700

// checkTemplate reports an unknown {placeholder} or a message too long.
func checkTemplate(s string) error {
	if n := utf8.RuneCountInString(s); n > MaxMessageLen {
		return fmt.Errorf("the message is %d characters long; the limit is %d (Plex sends it in the request's address, players show a few lines)", n, MaxMessageLen)
	}
	for _, p := range placeholderRE.FindAllString(s, -1) {
		if !knownPlaceholders[strings.ToLower(p)] {
			return fmt.Errorf("unknown placeholder %s; use {user} {title} {player} {platform} {product} {quality} {rule} {reason}", p)
		}
	}
	return nil
}

func patterns(field string, list []string) ([]string, error) {
	out := make([]string, 0, len(list))
	for i, p := range list {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			return nil, &FileError{Rule: -1, Field: fmt.Sprintf("%s[%d]", field, i), Err: errors.New("an empty pattern")}
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, &FileError{Rule: -1, Field: fmt.Sprintf("%s[%d]", field, i), Err: fmt.Errorf("bad pattern %q", list[i])}
		}
		out = append(out, p)
	}
	return out, nil
}

func networks(field string, list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, s := range list {
		s = strings.TrimSpace(s)
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
			p = p.Masked()
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(s)
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if err != nil {
			return nil, &FileError{Rule: -1, Field: fmt.Sprintf("%s[%d]", field, i),
				Err: fmt.Errorf("%q is not an IP address or CIDR (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32)", s)}
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96) // ::ffff:10.0.0.0/104 is 10.0.0.0/8
		}
		out = append(out, p)
	}
	return out, nil
}

// terminates reports a rule that terminates the sessions it matches.
func (c *compiled) terminates() bool {
	return c.Action == ActionTerminate || c.Action == ActionTerminateUser
}
