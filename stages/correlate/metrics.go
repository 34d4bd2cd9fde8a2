package correlate

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/internal/promreg"
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
	m.updates = promreg.Register(reg, m.updates)
	m.open = promreg.Register(reg, m.open)
	return m
}

func (m *Metrics) add(in *schemas.Incident) { m.updates.WithLabelValues(in.Rule, in.State).Inc() }
