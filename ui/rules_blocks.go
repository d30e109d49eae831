// The Rules tab's cool-downs and quota usage: who is blocked until when
// (with Lift), and how much of their playing time each user has used.

package ui

import (
	"context"
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/internal/words"
)

// blockRowsShown is how many rows the section shows without scrolling,
// so that the tab keeps within 800×600 (more scroll).
const blockRowsShown = 2

// blocksPane lists the cool-downs in force and the quota usage under the
// preview, each cool-down with a Lift button. It is hidden while there is
// neither. UI goroutine only.
type blocksPane struct {
	head    *widget.Label
	scroll  *container.Scroll
	shown   []string        // the rows' texts as last built, to rebuild only on change
	built   bool            // shown is up to date (false: rebuild)
	lifting map[string]bool // users whose Lift is in flight
	rows    *fyne.Container
	content *fyne.Container
}

func newBlocksPane() *blocksPane {
	p := &blocksPane{lifting: map[string]bool{}}
	p.head = widget.NewLabelWithStyle("Cool-downs and quotas", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.rows = container.NewVBox()
	p.scroll = container.NewVScroll(p.rows)
	p.content = container.NewVBox(widget.NewSeparator(), p.head, p.scroll)
	p.content.Hide()
	return p
}

// blockText is one cool-down: "carol · until 21:30 · rule “No 4K” · all
// new streams".
func blockText(b *rules.Block, now time.Time) string {
	scope := "all new streams"
	if b.Scope == rules.CoolDownRule {
		scope = "new streams in the rule’s scope"
	}
	return joinDot(b.User, "until "+untilText(b.Until, now), "rule “"+b.Rule+"”", scope)
}

// usageText is one user's quota: "alice · 1h10m of 2h · rule “X” ·
// resets Mon 00:00".
func usageText(q *rules.QuotaUsage, now time.Time) string {
	used := words.ShortDuration(q.Used.Std().Truncate(time.Minute))
	if q.Used.Std() < time.Minute {
		used = "0m"
	}
	return joinDot(q.User, used+" of "+words.ShortDuration(q.Limit.Std())+" played", "rule “"+q.Rule+"”", "resets "+untilText(q.Resets, now))
}

// untilText is t in local time: "21:30" today, "Mon 00:00" another day.
func untilText(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04")
	}
	return t.Format("Mon 15:04")
}

// refresh shows the backend's blocks and usage, rebuilding the rows only
// when their text changed (states come ten times a second).
func (p *blocksPane) refresh(v *rulesView) {
	now := v.u.now()
	blocks, usage := v.b.Blocks(), v.b.Usage()
	var texts []string
	for i := range blocks {
		texts = append(texts, "block\x00"+blockText(&blocks[i], now))
	}
	for i := range usage {
		texts = append(texts, "usage\x00"+usageText(&usage[i], now))
	}
	if p.built && slices.Equal(texts, p.shown) {
		return
	}
	p.shown, p.built = texts, true
	var objs []fyne.CanvasObject
	for i := range blocks {
		b := blocks[i]
		lift := widget.NewButtonWithIcon("Lift", theme.ContentClearIcon(), func() { p.lift(v, b.User) })
		if p.lifting[b.User] {
			lift.Disable()
		}
		text := widget.NewLabel("Cool-down: " + blockText(&b, now))
		text.Truncation = fyne.TextTruncateEllipsis
		objs = append(objs, container.NewBorder(nil, nil, nil, lift, text))
	}
	for i := range usage {
		text := widget.NewLabel("Quota: " + usageText(&usage[i], now))
		text.Truncation = fyne.TextTruncateEllipsis
		objs = append(objs, text)
	}
	p.head.SetText(fmt.Sprintf("Cool-downs (%d) and quotas (%d)", len(blocks), len(usage)))
	p.rows.Objects = objs
	p.rows.Refresh()
	if len(objs) > 0 { // the first rows without scrolling; a row with Lift is the tallest
		h := objs[0].MinSize().Height
		shown := min(len(objs), blockRowsShown)
		p.scroll.SetMinSize(fyne.NewSize(0, float32(shown)*h+float32(shown-1)*theme.Padding()))
	}
	setVisible(p.content, v.preview.content, len(objs) > 0)
}

// lift ends the user's cool-downs off the UI goroutine (the engine saves
// its state) and says so in the status line.
func (p *blocksPane) lift(v *rulesView, user string) {
	if p.lifting[user] {
		return
	}
	p.lifting[user] = true
	p.built = false // rebuild with the button off
	p.refresh(v)
	v.u.background(0, func(context.Context) func() {
		n, err := v.b.LiftBlock(user)
		return func() {
			delete(p.lifting, user)
			switch {
			case err != nil:
				v.u.status.showResult("Lifted "+user+"’s cool-down, but it could not be saved: "+err.Error(), widget.DangerImportance)
			case n == 0:
				v.u.status.showResult(user+" had no cool-down any more.", widget.WarningImportance)
			default:
				v.u.status.showResult("Lifted "+user+"’s cool-down: they can play again.", widget.SuccessImportance)
			}
			p.built = false
			p.refresh(v)
		}
	})
}
