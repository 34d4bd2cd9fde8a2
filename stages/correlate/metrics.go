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
	return &Metrics{
		updates: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "telekernel_correlate_incident_updates_total",
			Help: "Incident updates written to the incidents topic, by rule and state (open, resolved)."}, []string{"rule", "state"})),
		open: promreg.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "telekernel_correlate_open_incidents",
			Help: "Incidents open now in the partitions this process owns."})),
	}
}

func (m *Metrics) add(in *schemas.Incident) { m.updates.WithLabelValues(in.Rule, in.State).Inc() }
