package alert

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

// received is one request an HTTP test server got.
type received struct {
	header http.Header
	body   string
}

// httpSink is a server on 127.0.0.1 that records every POST and answers
// with status.
func httpSink(t *testing.T, status int) (*httptest.Server, func() []received) {
	t.Helper()
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Header.Clone(), string(b)})
		mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
}

func mustBuild(t *testing.T, ch app.AlertChannel, secret string) Channel {
	t.Helper()
	c, err := Build(ch, secret)
	if err != nil {
		t.Fatalf("Build(%+v): %v", ch, err)
	}
	return c
}

func sendCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var testNote = app.Notification{Kind: app.NotifyTranscode, Title: "Transcoding: alice", Body: "The Matrix · Transcode · Home",
	Server: "Home", User: "alice", SessionKey: "Home/12"}

func TestNtfy(t *testing.T) {
	tests := []struct {
		name, secret, wantAuth string
		note                   app.Notification
		wantPriority           string
	}{
		{"no token", "", "", testNote, ""},
		{"access token", "tk_abc123", "Bearer tk_abc123", testNote, ""},
		{"user and password", "admin:s3cret", "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:s3cret")), testNote, ""},
		{"failure is high priority", "", "", app.Notification{Kind: app.NotifyTerminated, Title: "Could not terminate", Body: "Failed.", Sticky: true}, "high"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := httpSink(t, http.StatusOK)
			c := mustBuild(t, app.AlertChannel{Name: "phone", Type: "ntfy", URL: srv.URL + "/plex-alerts"}, tt.secret)
			if err := c.Sender.Send(sendCtx(t), tt.note); err != nil {
				t.Fatalf("Send: %v", err)
			}
			r := got()
			if len(r) != 1 {
				t.Fatalf("server got %d requests, want 1", len(r))
			}
			if h := r[0].header.Get("Title"); h != tt.note.Title {
				t.Errorf("Title header = %q, want %q", h, tt.note.Title)
			}
			if r[0].body != tt.note.Body {
				t.Errorf("body = %q, want %q", r[0].body, tt.note.Body)
			}
			if h := r[0].header.Get("Authorization"); h != tt.wantAuth {
				t.Errorf("Authorization = %q, want %q", h, tt.wantAuth)
			}
			if h := r[0].header.Get("Priority"); h != tt.wantPriority {
				t.Errorf("Priority = %q, want %q", h, tt.wantPriority)
			}
		})
	}
}

func TestWebhook(t *testing.T) {
	old := timeNow
	timeNow = func() time.Time { return time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC) }
	t.Cleanup(func() { timeNow = old })
	srv, got := httpSink(t, http.StatusNoContent)
	c := mustBuild(t, app.AlertChannel{Name: "hook", Type: "webhook", URL: srv.URL + "/hook"}, "Bearer hook-secret")
	if err := c.Sender.Send(sendCtx(t), testNote); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := got()
	if len(r) != 1 {
		t.Fatalf("server got %d requests, want 1", len(r))
	}
	if h := r[0].header.Get("Authorization"); h != "Bearer hook-secret" {
		t.Errorf("Authorization = %q, want the secret", h)
	}
	if h := r[0].header.Get("Content-Type"); h != "application/json" {
		t.Errorf("Content-Type = %q", h)
	}
	var b WebhookBody
	if err := json.Unmarshal([]byte(r[0].body), &b); err != nil {
		t.Fatalf("body %q: %v", r[0].body, err)
	}
	want := WebhookBody{App: "Plex Warden", Kind: "transcode started", Time: "2026-12-04T17:00:00Z", Title: testNote.Title, Body: testNote.Body,
		Server: "Home", User: "alice", SessionKey: "Home/12"}
	if b != want {
		t.Errorf("body = %+v, want %+v", b, want)
	}
}

// smtpServer is a tiny SMTP server on 127.0.0.1 that accepts one login
// (AUTH PLAIN) and records each message.
type smtpServer struct {
	ln       net.Listener
	user     string
	pass     string
	mu       sync.Mutex
	messages []smtpMessage
	wg       sync.WaitGroup
}

type smtpMessage struct {
	from string
	to   []string
	data string
	auth string // the login that was accepted
}

func startSMTP(t *testing.T, user, pass string) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, user: user, pass: pass}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *smtpServer) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	say := func(line string) { _, _ = io.WriteString(conn, line+"\r\n") }
	say("220 127.0.0.1 test ESMTP")
	var m smtpMessage
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		cmd := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			say("250-127.0.0.1")
			say("250 AUTH PLAIN")
		case strings.HasPrefix(cmd, "AUTH PLAIN "):
			raw, _ := base64.StdEncoding.DecodeString(line[len("AUTH PLAIN "):])
			parts := strings.Split(string(raw), "\x00")
			if len(parts) == 3 && parts[1] == s.user && parts[2] == s.pass {
				m.auth = parts[1]
				say("235 2.7.0 Authentication successful")
			} else {
				say("535 5.7.8 Authentication credentials invalid")
			}
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m.from = strings.Trim(line[len("MAIL FROM:"):], "<> ")
			say("250 OK")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.to = append(m.to, strings.Trim(line[len("RCPT TO:"):], "<> "))
			say("250 OK")
		case cmd == "DATA":
			say("354 go ahead")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			m.data = data.String()
			s.mu.Lock()
			s.messages = append(s.messages, m)
			s.mu.Unlock()
			m = smtpMessage{}
			say("250 OK queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 OK")
		}
	}
}

func (s *smtpServer) got() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.messages...)
}

func TestEmail(t *testing.T) {
	srv := startSMTP(t, "warden", "mail-pass")
	ch := app.AlertChannel{Name: "mail", Type: "email", SMTP: srv.ln.Addr().String(), From: "warden@example.com",
		To: []string{"admin@example.com", "ops@example.com"}, User: "warden"}
	tests := []struct {
		name    string
		secret  string
		wantErr string // "" for none
	}{
		{"right password", "mail-pass", ""},
		{"wrong password", "nope", "did not accept the login \"warden\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.got())
			err := mustBuild(t, ch, tt.secret).Sender.Send(sendCtx(t), testNote)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Send error = %v, want it to contain %q", err, tt.wantErr)
				}
				if len(srv.got()) != before {
					t.Error("a message was delivered although the login failed")
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			msgs := srv.got()
			if len(msgs) != before+1 {
				t.Fatalf("server got %d messages, want %d", len(msgs), before+1)
			}
			m := msgs[len(msgs)-1]
			if m.from != ch.From || strings.Join(m.to, ",") != "admin@example.com,ops@example.com" || m.auth != "warden" {
				t.Errorf("envelope from %q to %v auth %q", m.from, m.to, m.auth)
			}
			subject := ""
			for _, l := range strings.Split(m.data, "\r\n") {
				if s, ok := strings.CutPrefix(l, "Subject: "); ok {
					subject, _ = new(mime.WordDecoder).DecodeHeader(s)
				}
			}
			if subject != testNote.Title {
				t.Errorf("subject = %q, want %q", subject, testNote.Title)
			}
			if !strings.Contains(m.data, "The Matrix =C2=B7 Transcode") {
				t.Errorf("body does not carry the notification text:\n%s", m.data)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		ch   app.AlertChannel
		want string // "" valid, else part of the error
	}{
		{"ntfy", app.AlertChannel{Name: "phone", Type: "ntfy", URL: "https://ntfy.sh/plex"}, ""},
		{"no name", app.AlertChannel{Type: "ntfy", URL: "https://ntfy.sh/plex"}, "give the channel a name"},
		{"unknown type", app.AlertChannel{Name: "x", Type: "pager"}, `unknown type "pager" (use "email", "ntfy", "webhook")`},
		{"bad url", app.AlertChannel{Name: "x", Type: "webhook", URL: "ftp://host/x"}, "not an http:// or https:// address"},
		{"password in url", app.AlertChannel{Name: "x", Type: "webhook", URL: "https://u:p@host/x"}, "secret field, not in the URL"},
		{"smtp without port", app.AlertChannel{Name: "m", Type: "email", SMTP: "smtp.example.com", From: "a@b.c", To: []string{"d@e.f"}}, "host:port"},
		{"no recipient", app.AlertChannel{Name: "m", Type: "email", SMTP: "smtp.example.com:587", From: "a@b.c"}, "no To address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.ch)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
