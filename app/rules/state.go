package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

// Files of the engine's state in Options.StateDir.
const (
	BlocksFile = "blocks.json" // cool-downs in force (Blocks)
	UsageFile  = "usage.json"  // quota time used (Usage)
)

// stateVersion is the schema of the state files.
const stateVersion = 1

// saveState writes v as JSON to path atomically, keeping the previous
// content as path+".bak" (app.SaveJSONWithBackup, as for the rules file).
func saveState(path string, v any) error { return app.SaveJSONWithBackup(path, v) }

// loadState reads path into v. A missing file is no state (nil). A file
// that does not decode is set aside as path+".broken-<time>" (never
// deleted) and the backup is read instead; the error says what happened
// either way, so the caller can log it.
func loadState(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil {
		if err = json.Unmarshal(b, v); err == nil {
			return nil
		}
	}
	zero := func() { reflect.ValueOf(v).Elem().SetZero() } // drop what a bad file decoded
	zero()
	bad := fmt.Errorf("%s: %w", path, err)
	aside := fmt.Sprintf("%s.broken-%s", path, time.Now().UTC().Format("20060102T150405"))
	if rerr := os.Rename(path, aside); rerr != nil {
		return fmt.Errorf("%w; could not set it aside: %v (it was left as it is)", bad, rerr)
	}
	if bb, berr := os.ReadFile(path + ".bak"); berr == nil && json.Unmarshal(bb, v) == nil {
		return fmt.Errorf("%w; it was kept as %s and the backup %s.bak was used", bad, aside, path)
	}
	zero()
	return fmt.Errorf("%w; it was kept as %s and no usable backup exists, so this starts empty", bad, aside)
}
