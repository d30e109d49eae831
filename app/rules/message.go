package rules

import (
	"net/url"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/plexwarden/plexwarden/app"
)

var knownPlaceholders = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range Placeholders {
		m[p] = true
	}
	return m
}()

// Family is a group of players that share their settings menus, used as a
// key for per-player messages and in player patterns.
type Family struct {
	Key  string // "roku", "web", …
	Name string // "Roku", "Plex Web", …
}

// PlayerFamilies lists the families PlayerFamily returns, in the order it
// tries them ("other" last).
var PlayerFamilies = []Family{
	{"roku", "Roku"},
	{"plexamp", "Plexamp"},
	{"smarttv", "Smart TVs (Samsung, LG, Vizio, Hisense)"},
	{"xbox", "Xbox"},
	{"playstation", "PlayStation"},
	{"chromecast", "Chromecast"},
	{"tvos", "Apple TV"},
	{"ios", "iPhone and iPad"},
	{"android", "Android, Android TV and Fire TV"},
	{"web", "Plex Web"},
	{"desktop", "Plex for Windows, Mac and Linux"},
	{"other", "Other players"},
}

// PlayerFamily returns the family key of a player from its product,
// platform and device, or "other". Smart TVs are tried before Plex Web:
// LG's platform is "webOS".
func PlayerFamily(p app.Player) string {
	s := strings.ToLower(p.Product + " | " + p.Platform + " | " + p.Device)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(s, w) {
				return true
			}
		}
		return false
	}
	plat := strings.ToLower(strings.TrimSpace(p.Platform))
	switch {
	case has("roku"):
		return "roku"
	case has("plexamp"):
		return "plexamp"
	case has("tizen", "webos", "netcast", "samsung", "vizio", "hisense", "vidaa", "smart tv", "smarttv", "plex for lg") || plat == "lg":
		return "smarttv"
	case has("xbox"):
		return "xbox"
	case has("playstation", "ps4", "ps5"):
		return "playstation"
	case has("chromecast"):
		return "chromecast"
	case has("tvos", "apple tv", "appletv"):
		return "tvos"
	case has("ios", "iphone", "ipad"):
		return "ios"
	case has("android", "fire tv", "firetv", "shield"):
		return "android"
	case has("plex web") || plat == "chrome" || plat == "firefox" || plat == "safari" || plat == "edge" ||
		plat == "microsoft edge" || plat == "opera":
		return "web"
	case has("plex for windows", "plex for mac", "plex for linux", "plex htpc", "plex media player", "plex desktop") ||
		plat == "windows" || plat == "macos" || plat == "osx" || plat == "linux":
		return "desktop"
	}
	return "other"
}

// matchPlayer reports whether a lower-case pattern (with * and ?) matches
// the player's family, product, platform, device, name or id.
func matchPlayer(pattern string, p *app.Player) bool {
	for _, v := range []string{PlayerFamily(*p), p.Product, p.Platform, p.Device, p.Title, p.MachineIdentifier} {
		if v == "" {
			continue
		}
		if ok, _ := path.Match(pattern, strings.ToLower(v)); ok {
			return true
		}
	}
	return false
}

// Hint tells the viewer what to change on their player so the stream is
// not transcoded: where the quality setting lives ("On Roku: Settings ›
// Playback › Remote quality › Original"), or, when the only video work is
// burning subtitles in, to pick text subtitles. It is the {quality}
// placeholder. Menu paths use › rather than an arrow, as app's messages do:
// the desktop app previews these texts and Fyne's font has no arrow.
func Hint(s app.Session) string {
	if s.SubtitleBurn && burnOnly(&s) {
		return "Subtitles were being burned into the picture: choose a text subtitle (SRT) or turn subtitles off, then play again."
	}
	where := "Remote streaming"
	if s.IsLAN() {
		where = "Home streaming"
	}
	switch PlayerFamily(s.Player) {
	case "roku":
		setting := "Remote quality"
		if s.IsLAN() {
			setting = "Home streaming quality"
		}
		return "On Roku: Settings › Playback › " + setting + " › Original, then play again."
	case "plexamp":
		return "In Plexamp: Settings › Playback › streaming quality › Original, then play again."
	case "smarttv":
		return "In your TV's Plex app: Settings › Quality › " + where + " › Original, then play again."
	case "xbox", "playstation":
		return "In the Plex app: Settings › Quality › " + where + " › Original, then play again."
	case "chromecast":
		return "In the app you cast from, set the streaming quality to Original, then cast again."
	case "tvos":
		return "On Apple TV: Plex › Settings › Quality › " + where + " › Original, then play again."
	case "ios":
		return "In the Plex app on iPhone/iPad: Settings › Quality › " + where + " › Original, then play again."
	case "android":
		return "In the Plex app: Settings › Quality › " + where + " › Original, then play again."
	case "web":
		return "In Plex Web: Settings › Quality › " + where + " › Original (and turn off \"Automatically adjust quality\"), then play again."
	case "desktop":
		return "In Plex for desktop: Settings › Quality › " + where + " › Original, then play again."
	}
	return "Set your player's streaming quality to Original (Maximum), then play again."
}

// template picks the message template for s: an override for the exact
// product, platform or device, else for the player's family, else the
// rule's message, else the kind's default.
func template(r Rule, s app.Session) string {
	if len(r.Messages) > 0 {
		for _, v := range []string{s.Player.Product, s.Player.Platform, s.Player.Device} {
			for k, m := range r.Messages {
				if v != "" && strings.EqualFold(strings.TrimSpace(k), v) {
					return m
				}
			}
		}
		fam := PlayerFamily(s.Player)
		for k, m := range r.Messages {
			if strings.EqualFold(strings.TrimSpace(k), fam) {
				return m
			}
		}
	}
	if strings.TrimSpace(r.Message) != "" {
		return r.Message
	}
	if sp, ok := specOf(r.Kind); ok {
		return sp.DefaultMessage
	}
	return ""
}

// RenderMessage is the message rule r would show on session s, with every
// placeholder filled in: the live preview for the rule editor. {reason}
// is the rule's reason for s as far as s alone tells (for per-user and
// per-server counts, the limit).
func RenderMessage(r Rule, s app.Session) string {
	return render(r, s, sessionReason(r, s))
}

func render(r Rule, s app.Session, reason string) string {
	player := s.Player.Title
	if player == "" {
		player = s.Player.Product
	}
	if player == "" {
		player = "your player"
	}
	product := s.Player.Product
	if product == "" {
		product = "this player"
	}
	vals := map[string]string{
		"{user}": s.User, "{title}": s.Title, "{player}": player, "{platform}": s.Player.Platform,
		"{product}": product, "{quality}": Hint(s), "{rule}": r.Name, "{reason}": reason,
	}
	// Placeholders are case-insensitive, as the rules file's check is:
	// {User} is filled in, never shown to the viewer as is.
	msg := placeholderRE.ReplaceAllStringFunc(template(r, s), func(p string) string {
		if v, ok := vals[strings.ToLower(p)]; ok {
			return v
		}
		return p
	})
	msg = strings.Join(strings.Fields(msg), " ") // empty placeholders leave no double spaces
	return truncateMessage(strings.ReplaceAll(msg, " ()", ""), maxRendered)
}

// maxEncoded bounds a message as the terminate request carries it (URL
// encoded, up to 12 bytes a character): well under the 8 KiB request line
// common servers accept.
const maxEncoded = 4096

// truncateMessage cuts msg to at most n characters and maxEncoded bytes
// once URL-encoded, marking a cut with "…".
func truncateMessage(msg string, n int) string {
	if utf8.RuneCountInString(msg) <= n && len(url.QueryEscape(msg)) <= maxEncoded {
		return msg
	}
	r := []rune(msg)
	if len(r) > n-1 {
		r = r[:n-1]
	}
	size := len(url.QueryEscape("…"))
	for i, c := range r {
		size += len(url.QueryEscape(string(c)))
		if size > maxEncoded {
			r = r[:i]
			break
		}
	}
	return strings.TrimSpace(string(r)) + "…"
}
