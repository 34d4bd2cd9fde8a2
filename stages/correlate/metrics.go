package correlate

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/schemas"
)

// Metrics are the correlate stage's own metrics.
type Metrics struct {
	updates *prometheus.CounterVec // by rule and state
	open    prometheus.Gauge
}

// NewMetrics registers the correlate stage's metrics with reg (nil: none):
// telekernel_correlate_incident_updates_total{rule,state}, every incident
// update written, and telekernel_correlate_open_incidents. Registering
// twice with one registry reuses the first.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "telekernel_correlate_incident_updates_total",
			Help: "Incident updates written to the incidents topic, by rule and state (open, resolved)."}, []string{"rule", "state"}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{Name: "telekernel_correlate_open_incidents",
			Help: "Incidents open now in the partitions this process owns."}),
	}
	if reg == nil {
		return m
	}
	m.updates = register(reg, m.updates)
	m.open = register(reg, m.open)
	return m
}

// register registers c with reg, or returns the collector registered
// before under its name.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
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

func (m *Metrics) add(in *schemas.Incident) { m.updates.WithLabelValues(in.Rule, in.State).Inc() }
