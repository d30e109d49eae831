package desktop

import (
	"io"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/app/rules"
)

// Rules returns the rules in force (the Rules view's starting point).
func (a *App) Rules() rules.File { return a.Engine.Rules() }

// Preview lists what the rules in force would do to st now.
func (a *App) Preview(st *app.State) []rules.PreviewItem { return a.Engine.Preview(st) }

// Blocks lists the cool-downs in force (the Rules view's "Cool-downs").
func (a *App) Blocks() []rules.Block { return a.Engine.Blocks() }

// LiftBlock ends every cool-down of user (the Rules view's Lift).
func (a *App) LiftBlock(user string) (int, error) { return a.Engine.LiftBlock(user) }

// Usage lists the quota time counted in the current periods.
func (a *App) Usage() []rules.QuotaUsage { return a.Engine.Usage() }

// Query reads the history (all rotated files) with a filter.
func (a *App) Query(f history.Filter) (history.Result, error) { return a.History.Scan(f) }

// WriteCSV exports records as CSV.
func (a *App) WriteCSV(w io.Writer, recs []history.Record) error { return history.WriteCSV(w, recs) }
