//go:build !unix

package redistest

import "os"

// The signals Server sends. Without Unix signals, each is a kill: Stop
// still stops the server, while Pause and Resume fail the test.
var (
	sigTerm = os.Kill
	sigStop = unsupportedSignal{}
	sigCont = unsupportedSignal{}
)

type unsupportedSignal struct{}

func (unsupportedSignal) String() string { return "unsupported signal" }
func (unsupportedSignal) Signal()        {}
