// Package promvec registers the collectors' Prometheus metrics, named
// telekernel_<subsystem>_<name>, so each collector's NewMetrics lists its
// metrics and nothing else.
package promvec

import "github.com/prometheus/client_golang/prometheus"

// Counters returns a function that creates a counter vector
// telekernel_<subsystem>_<name> with the given help and labels and
// registers it with reg (panicking, as prometheus.MustRegister does, when
// the name is taken).
func Counters(reg prometheus.Registerer, subsystem string) func(name, help string, labels ...string) *prometheus.CounterVec {
	return func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "telekernel", Subsystem: subsystem, Name: name, Help: help}, labels)
		reg.MustRegister(v)
		return v
	}
}
