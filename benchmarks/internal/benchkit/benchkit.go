// Package benchkit holds the little that the benchmark commands in
// benchmarks/ share: the CPU time of the process (for figures per
// CPU-second), a counter's total in a Prometheus registry, and flag
// defaults read from the environment that deploy/local/env.sh sets.
package benchkit

import (
	"os"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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

// CounterValue returns the total, over its labels, of the counter name in
// reg (0 when reg has none).
func CounterValue(reg *prometheus.Registry, name string) float64 {
	mfs, _ := reg.Gather()
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}
