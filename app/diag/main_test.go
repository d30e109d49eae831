package diag_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine running (the
// simulator, a monitor or an HTTP connection).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
