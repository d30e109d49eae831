package history

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// CSVHeader is the first row WriteCSV writes.
var CSVHeader = []string{"time", "kind", "server", "sessionId", "sessionKey", "user", "title", "player",
	"rule", "action", "dryRun", "message", "outcome", "latencyMs", "detail"}

// WriteCSV writes recs as CSV with a header row (CSVHeader). Times are
// RFC 3339 in UTC. A cell that a spreadsheet would take for a formula
// (starting with =, +, -, @, tab or carriage return) is prefixed with a
// single quote, since titles and user names come from other people.
func WriteCSV(w io.Writer, recs []Record) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, r := range recs {
		latency := ""
		if r.LatencyMs != 0 {
			latency = strconv.FormatFloat(r.LatencyMs, 'f', 1, 64)
		}
		row := []string{r.Time.UTC().Format(time.RFC3339Nano), r.Kind, r.Server, r.SessionID, r.SessionKey, r.User, r.Title, r.Player,
			r.Rule, r.Action, strconv.FormatBool(r.DryRun), r.Message, r.Outcome, latency, r.Detail}
		for i := range row {
			row[i] = safeCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// safeCell defuses spreadsheet formula injection (OWASP "CSV injection").
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
