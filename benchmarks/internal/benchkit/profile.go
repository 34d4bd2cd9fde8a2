package benchkit

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
)

// StartCPUProfile starts a CPU profile into file (none when file is empty)
// and returns the function that stops it.
func StartCPUProfile(file string) (stop func(), err error) {
	return startTo(file, "CPU profile", pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// StartTrace starts an execution trace into file (none when file is empty)
// and returns the function that stops it.
func StartTrace(file string) (stop func(), err error) {
	return startTo(file, "trace", trace.Start, trace.Stop)
}

// startTo runs start on a new file (nothing when file is empty) and returns
// the function that runs end and closes the file; what names it in errors.
func startTo(file, what string, start func(io.Writer) error, end func()) (stop func(), err error) {
	if file == "" {
		return func() {}, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("cannot write the %s: %w", what, err)
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot start the %s: %w", what, err)
	}
	return func() { end(); f.Close() }, nil
}
