//go:build !unix

package cli

import "errors"

// canExec: Windows cannot replace a process with another program.
const canExec = false

func execve(string, []string, []string) error { return errors.New("not supported") }
