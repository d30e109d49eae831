package plex_test

import (
	"testing"

	"github.com/plexwarden/plexwarden/plex"
)

func TestMergeDuplicates(t *testing.T) {
	sess := func(id string) *plex.Session { return &plex.Session{ID: plex.String(id)} }
	tests := []struct {
		name  string
		in    []plex.Metadata
		want  []string // sessionKey/title of each entry kept
		check func(t *testing.T, out []plex.Metadata)
	}{
		{"no duplicates", []plex.Metadata{{SessionKey: "1", Title: "a"}, {SessionKey: "2", Title: "b"}}, []string{"1/a", "2/b"}, nil},
		{"same sessionKey twice", []plex.Metadata{{SessionKey: "1", Title: "a"}, {SessionKey: "2", Title: "b"}, {SessionKey: "1", Title: "a again"}}, []string{"1/a", "2/b"}, nil},
		{"same Session id under two keys", []plex.Metadata{{SessionKey: "1", Title: "a", Session: sess("X")}, {SessionKey: "9", Title: "a", Session: sess("X")}}, []string{"1/a"}, nil},
		{"the duplicate fills what the first lacks", []plex.Metadata{{SessionKey: "1", Title: "a"}, {SessionKey: "1", Session: sess("X"), User: &plex.User{Title: "alice"}}}, []string{"1/a"},
			func(t *testing.T, out []plex.Metadata) {
				if out[0].Session == nil || out[0].Session.ID != "X" || out[0].User == nil || out[0].User.Title != "alice" {
					t.Errorf("merged entry = %+v, want Session X and user alice from the duplicate", out[0])
				}
			}},
		{"entries without keys are kept", []plex.Metadata{{Title: "a"}, {Title: "b"}}, []string{"/a", "/b"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := plex.MergeDuplicates(tt.in)
			var got []string
			for _, m := range out {
				got = append(got, string(m.SessionKey)+"/"+m.Title)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("entry %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
}
