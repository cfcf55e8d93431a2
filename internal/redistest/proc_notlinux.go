//go:build !linux

package redistest

import "syscall"

// sysProcAttr: no parent-death signal outside Linux; the test's cleanup
// kills the server.
func sysProcAttr() *syscall.SysProcAttr { return nil }
