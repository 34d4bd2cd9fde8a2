// Package benchkit holds the little that the benchmark commands in
// benchmarks/ share: the CPU time of the process (for figures per
// CPU-second) and flag defaults read from the environment that
// deploy/local/env.sh sets.
package benchkit

import (
	"os"
	"syscall"
	"time"
)

// CPU returns the CPU time (user + system) this process has used so far.
func CPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// EnvOr returns the environment variable key, or def when it is unset or
// empty.
func EnvOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
