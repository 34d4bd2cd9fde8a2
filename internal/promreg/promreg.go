// Package promreg registers Prometheus collectors so that a component
// built twice with one registry (a stage rebuilt after a rebalance, two
// tests in one process) shares its metrics instead of panicking or
// counting into a collector nobody scrapes.
package promreg

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c with reg and returns it, or, when a collector of the
// same description is registered already, returns that one. Any other
// registration error (an inconsistent description) leaves c unregistered
// and returns it, so the caller counts into a collector that is not
// exported rather than failing. A nil reg registers nothing and returns c.
// Register is safe for concurrent use when
// reg is.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
	}
	return c
}
