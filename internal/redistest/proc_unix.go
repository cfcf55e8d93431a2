//go:build unix

package redistest

import "syscall"

// The signals Server sends.
var (
	sigTerm = syscall.SIGTERM
	sigStop = syscall.SIGSTOP
	sigCont = syscall.SIGCONT
)
