package alert

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strings"

	"github.com/plexwarden/plexwarden/app"
)

// Email sends each notification as a plain-text mail through an SMTP
// server (net/smtp): TLS from the start on port 465, STARTTLS whenever the
// server offers it, and the login (User, the secret as password) only over
// an encrypted connection or to this computer.
func init() {
	register(Kind{Type: "email", Label: "Email", SecretLabel: "SMTP password",
		Check: checkEmail,
		New: func(ch app.AlertChannel, secret string) Sender {
			return email{addr: ch.SMTP, from: ch.From, to: ch.To, user: ch.User, pass: secret}
		}})
}

func checkEmail(ch app.AlertChannel) error {
	host, port, err := net.SplitHostPort(ch.SMTP)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("SMTP server %q: write it as host:port, e.g. smtp.example.com:587", ch.SMTP)
	}
	if _, err := mail.ParseAddress(ch.From); err != nil {
		return fmt.Errorf("the From address %q is not an email address", ch.From)
	}
	if len(ch.To) == 0 {
		return errors.New("no To address")
	}
	for _, to := range ch.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return fmt.Errorf("the To address %q is not an email address", to)
		}
	}
	return nil
}

type email struct {
	addr, from string
	to         []string
	user, pass string
}

// Send mails n: the title as the subject.
func (c email) Send(ctx context.Context, n app.Notification) error {
	host, port, _ := net.SplitHostPort(c.addr)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return reachError(ctx, "the mail server "+c.addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	tlsConf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if port == "465" {
		conn = tls.Client(conn, tlsConf)
	}
	cl, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("the mail server %s did not greet properly (%v)", c.addr, err)
	}
	defer cl.Close()
	if ok, _ := cl.Extension("STARTTLS"); ok && port != "465" {
		if err := cl.StartTLS(tlsConf); err != nil {
			return fmt.Errorf("the mail server %s offered encryption but it failed (%v)", c.addr, err)
		}
	}
	if c.user != "" {
		// PlainAuth refuses to send the password unencrypted except to
		// localhost.
		if err := cl.Auth(smtp.PlainAuth("", c.user, c.pass, host)); err != nil {
			return fmt.Errorf("the mail server %s did not accept the login %q (%v): check the user and password", c.addr, c.user, err)
		}
	}
	if err := cl.Mail(c.from); err != nil {
		return fmt.Errorf("the mail server %s refused the sender %s (%v)", c.addr, c.from, err)
	}
	for _, to := range c.to {
		if err := cl.Rcpt(to); err != nil {
			return fmt.Errorf("the mail server %s refused the recipient %s (%v)", c.addr, to, err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return fmt.Errorf("the mail server %s refused the message (%v)", c.addr, err)
	}
	if _, err := w.Write(c.message(n)); err != nil {
		return fmt.Errorf("sending the message to %s: %v", c.addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("the mail server %s refused the message (%v)", c.addr, err)
	}
	return cl.Quit()
}

// message is the mail with its headers; the body is quoted-printable
// UTF-8, the subject encoded when it is not plain ASCII.
func (c email) message(n app.Notification) []byte {
	var b strings.Builder
	b.WriteString("From: " + c.from + "\r\n")
	b.WriteString("To: " + strings.Join(c.to, ", ") + "\r\n")
	b.WriteString("Subject: " + mime.QEncoding.Encode("utf-8", n.Title) + "\r\n")
	b.WriteString("Date: " + timeNow().Format("Mon, 02 Jan 2006 15:04:05 -0700") + "\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := n.Body
	if body == "" {
		body = n.Title
	}
	_, _ = qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n") + "\r\n\r\n-- \r\nPlex Warden\r\n"))
	_ = qp.Close()
	return []byte(b.String())
}
