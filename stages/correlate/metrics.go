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
	dropped *prometheus.CounterVec // by reason
	closed  *prometheus.CounterVec // by reason
}

// ReasonUnknownAlert is the reason label of a resolved detection that no
// incident held the alert of (see NewMetrics).
const ReasonUnknownAlert = "resolution_of_unknown_alert"

// NewMetrics registers the correlate stage's metrics with reg (nil: none):
// telekernel_correlate_incident_updates_total{rule,state}, every incident
// update written, telekernel_correlate_open_incidents, and
// telekernel_correlate_detections_dropped_total{reason}, the detections
// that changed no incident: ReasonUnknownAlert, a resolution of an alert
// no incident holds (its firing came before the partition's state began,
// or went to another partition of the input), and
// telekernel_correlate_incidents_closed_total{reason}, the incidents
// resolved while member alerts still fired: incidents.ClosedDeviceRemoved
// (device_removed: their devices left the inventory) or
// incidents.ClosedStale (stale: no evidence for engine.stale_after).
// Registering twice with one registry reuses the first.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	return &Metrics{
		updates: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "telekernel_correlate_incident_updates_total",
			Help: "Incident updates written to the incidents topic, by rule and state (open, resolved)."}, []string{"rule", "state"})),
		open: promreg.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "telekernel_correlate_open_incidents",
			Help: "Incidents open now in the partitions this process owns."})),
		dropped: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "telekernel_correlate_detections_dropped_total",
			Help: "Detections that changed no incident, by reason (resolution_of_unknown_alert: the resolution of an alert no incident holds)."}, []string{"reason"})),
		closed: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "telekernel_correlate_incidents_closed_total",
			Help: "Incidents resolved while member alerts still fired, by reason (device_removed: their devices left the inventory; stale: no evidence for engine.stale_after)."}, []string{"reason"})),
	}
}

func (m *Metrics) add(in *schemas.Incident) { m.updates.WithLabelValues(in.Rule, in.State).Inc() }
