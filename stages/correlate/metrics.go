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

// The reason labels of the detections that changed no incident (see
// NewMetrics).
const (
	// ReasonUnknownAlert: a resolved detection that no incident held the
	// alert of.
	ReasonUnknownAlert = "resolution_of_unknown_alert"
	// ReasonStaleAlert: a resolved detection that no incident held the
	// alert of, which fired longer than engine.stale_after before: its
	// incident was resolved as stale and forgotten before it came
	// (incidents.Engine.DroppedStale).
	ReasonStaleAlert = "resolution_of_stale_alert"
)

// NewMetrics registers the correlate stage's metrics with reg (nil: none):
// telekernel_correlate_incident_updates_total{rule,state}, every incident
// update written, telekernel_correlate_open_incidents, and
// telekernel_correlate_detections_dropped_total{reason}, the detections
// that changed no incident: ReasonUnknownAlert, a resolution of an alert
// no incident holds (its firing came before the partition's state began,
// or went to another partition of the input) or ReasonStaleAlert, one
// of an alert that fired longer than engine.stale_after before (its
// incident was resolved as stale and forgotten before it came), and
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
			Help: "Detections that changed no incident, by reason (resolution_of_unknown_alert: the resolution of an alert no incident holds; resolution_of_stale_alert: that of an alert that fired longer than engine.stale_after before, its incident resolved as stale and forgotten)."}, []string{"reason"})),
		closed: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "telekernel_correlate_incidents_closed_total",
			Help: "Incidents resolved while member alerts still fired, by reason (device_removed: their devices left the inventory; stale: no evidence for engine.stale_after)."}, []string{"reason"})),
	}
}

func (m *Metrics) add(in *schemas.Incident) { m.updates.WithLabelValues(in.Rule, in.State).Inc() }
