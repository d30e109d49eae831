//go:build unix

package cli

import "syscall"

const canExec = true

func execve(path string, argv, env []string) error { return syscall.Exec(path, argv, env) }
