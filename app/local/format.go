package local

import (
	"fmt"
	"time"
)

// FormatBytes prints a size in binary units: "812 B", "3.2 MiB", "1.1 GiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// FormatUptime prints how long a process has run: "42s", "5m12s",
// "2h05m", "3d04h".
func FormatUptime(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

// FormatCPU prints a CPU share: "87%", or "-" before the first sample.
func (t *Transcoder) FormatCPU() string {
	if !t.CPUSampled {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", t.CPUPercent)
}

// Activity describes the output for lists: "14 segments · 3.2 MiB · 1s ago",
// or why it is unknown.
func (o Output) Activity(now time.Time) string {
	if !o.Known {
		// Said plainly: the idle rule cannot judge such a process.
		if o.Err != "" {
			return "not measurable (" + o.Err + ")"
		}
		return "not measurable"
	}
	s := ""
	if o.File == "" {
		s = fmt.Sprintf("%d segments · ", o.Segments)
	}
	s += FormatBytes(o.Bytes)
	if !o.Newest.IsZero() {
		s += " · " + FormatUptime(max(0, now.Sub(o.Newest))) + " ago"
	} else {
		s += " · nothing written"
	}
	return s
}

// LinkLabel describes the link for lists: "linked", "orphan for 45s",
// "background: credits detection", "key only".
func (t *Transcoder) LinkLabel(now time.Time) string {
	switch t.Link {
	case LinkOrphan:
		return "orphan for " + FormatUptime(max(0, now.Sub(t.LinkSince)))
	case LinkBackground:
		return "background: " + t.Job
	}
	return t.Link.Text()
}
