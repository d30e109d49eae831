package rules

import (
	"strings"
	"testing"

	"github.com/plexwarden/plexwarden/app"
)

func TestPlayerFamily(t *testing.T) {
	tests := []struct {
		product, platform, device string
		want                      string
	}{
		{"Plex for Roku", "Roku", "Roku Ultra", "roku"},
		{"Plex Web", "Chrome", "Windows", "web"},
		{"Plex Web", "Safari", "macOS", "web"},
		{"", "Firefox", "", "web"},
		{"Plex for LG", "webOS", "OLED65", "smarttv"}, // webOS must not read as Plex Web
		{"Plex for Samsung", "Tizen", "", "smarttv"},
		{"Plex for Vizio", "", "", "smarttv"},
		{"Plex for Android (TV)", "Android", "SHIELD Android TV", "android"},
		{"Plex for Fire TV", "Fire TV", "AFTMM", "android"},
		{"Plex for iOS", "iOS", "iPhone", "ios"},
		{"Plex for iOS", "iPadOS", "iPad", "ios"},
		{"Plex for Apple TV", "tvOS", "Apple TV", "tvos"},
		{"Plex for Xbox", "Xbox", "Xbox Series X", "xbox"},
		{"Plex for PlayStation", "PlayStation 5", "PS5", "playstation"},
		{"Plexamp", "iOS", "iPhone", "plexamp"},
		{"Plex for Windows", "Windows", "PC", "desktop"},
		{"Plex HTPC", "Linux", "", "desktop"},
		{"Plex Media Server", "Chromecast", "Chromecast", "chromecast"},
		{"Kodi", "Kodi", "", "other"},
		{"", "", "", "other"},
	}
	for _, tt := range tests {
		p := app.Player{Product: tt.product, Platform: tt.platform, Device: tt.device}
		if got := PlayerFamily(p); got != tt.want {
			t.Errorf("PlayerFamily(%q, %q, %q) = %q, want %q", tt.product, tt.platform, tt.device, got, tt.want)
		}
	}
	keys := map[string]bool{}
	for _, f := range PlayerFamilies {
		keys[f.Key] = true
	}
	for _, tt := range tests {
		if !keys[tt.want] {
			t.Errorf("PlayerFamilies lacks %q", tt.want)
		}
	}
}

func TestHint(t *testing.T) {
	tests := []struct {
		name string
		s    app.Session
		want string
	}{
		{"roku remote", sess("1", transcoding, player("Plex for Roku", "Roku")), "On Roku: Settings › Playback › Remote quality › Original"},
		{"roku at home", sess("1", transcoding, player("Plex for Roku", "Roku"), lan), "Home streaming quality › Original"},
		{"web", sess("1", transcoding), "In Plex Web: Settings › Quality › Remote streaming › Original"},
		{"web at home", sess("1", transcoding, lan), "Home streaming › Original"},
		{"LG TV", sess("1", transcoding, player("Plex for LG", "webOS")), "In your TV's Plex app"},
		{"apple tv", sess("1", transcoding, player("Plex for Apple TV", "tvOS")), "On Apple TV"},
		{"iphone", sess("1", transcoding, player("Plex for iOS", "iOS")), "on iPhone/iPad"},
		{"android", sess("1", transcoding, player("Plex for Android", "Android")), "In the Plex app: Settings › Quality"},
		{"unknown", sess("1", transcoding, player("Kodi", "Kodi")), "Set your player's streaming quality to Original"},
		{"subtitle burn", sess("1", burnOnlyTranscode), "choose a text subtitle (SRT) or turn subtitles off"},
	}
	for _, tt := range tests {
		if got := Hint(tt.s); !strings.Contains(got, tt.want) {
			t.Errorf("%s: Hint = %q, want it to contain %q", tt.name, got, tt.want)
		}
	}
}

func TestRenderMessage(t *testing.T) {
	roku := sess("1", transcoding, uhdHEVC, player("Plex for Roku", "Roku"), func(s *app.Session) { s.Player.Title = "Living Room" })
	xbox := sess("2", transcoding, player("Plex for Xbox", "Xbox"))
	web := sess("3", transcoding)
	base := Rule{Name: "No transcodes", Kind: KindTranscode, Enabled: true, Action: ActionTerminate}
	withOverrides := base
	withOverrides.Message = "Sorry {user}, {reason}. ({rule})"
	withOverrides.Messages = map[string]string{
		"roku":          "{user} on {player} ({product}, {platform}): {quality}",
		"Plex for Xbox": "Xbox: {title}",
		"XBOX":          "never: product and platform keys are tried before families",
	}
	tests := []struct {
		name string
		r    Rule
		s    app.Session
		want string
	}{
		{"kind default", base, web,
			"This server does not allow converted (transcoded) streams. In Plex Web: Settings › Quality › Remote streaming › Original (and turn off \"Automatically adjust quality\"), then play again."},
		{"family override with every placeholder", withOverrides, roku,
			"alice on Living Room (Plex for Roku, Roku): On Roku: Settings › Playback › Remote quality › Original, then play again."},
		{"exact product override", withOverrides, xbox, "Xbox: Movie 2"},
		{"rule message when no override fits", withOverrides, web, "Sorry alice, video H.264 1080p to H.264 720p. (No transcodes)"},
		{"source default names the source", Rule{Name: "4K", Kind: KindSourceTranscode, MinResolution: "4K"}, roku,
			"This server cannot convert 4K HEVC video for your player. On Roku: Settings › Playback › Remote quality › Original, then play again."},
		{"aggregate reason", Rule{Name: "2 max", Kind: KindUserStreams, MaxStreams: 2}, web,
			"You are playing too many streams at once (more than 2 streams at once). Stop one of them, then play again."},
		{"empty placeholders leave no gaps", Rule{Name: "p", Kind: KindPlayer, Players: []string{"web"}, Message: "On {platform} {player}: no."},
			sess("4", func(s *app.Session) { s.Player = app.Player{} }), "On your player: no."},
		{"time window", Rule{Name: "night", Kind: KindTimeWindow, Schedule: &Schedule{From: "23:00", To: "06:00"}}, web,
			"Streaming is not available at this time (23:00–06:00)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RenderMessage(tt.r, tt.s); got != tt.want {
				t.Errorf("RenderMessage =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
