//go:build !unix

package history

// processAlive cannot tell on this system: an open intent of another
// process is taken as abandoned.
func processAlive(int) bool { return false }
