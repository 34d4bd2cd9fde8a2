package pipeline

import "github.com/prometheus/client_golang/prometheus"

// The accessors below let the stages in stages/ update the runtime's
// stage metrics (one registration per registry, in NewMetrics).

// Detections returns the counter of detection events in state
// (telekernel_detect_detections_total{state}).
func (m *Metrics) Detections(state string) prometheus.Counter {
	return m.outputs.WithLabelValues(state)
}

// SetSeries sets the series (or devices) a stage keeps state for
// (telekernel_detect_series{stage}).
func (m *Metrics) SetSeries(stage string, n float64) { m.series.WithLabelValues(stage).Set(n) }

// SetStateBytes sets the approximate bytes of a stage's state in memory
// (telekernel_detect_state_bytes{stage}).
func (m *Metrics) SetStateBytes(stage string, n float64) { m.stateBytes.WithLabelValues(stage).Set(n) }

// UnknownStates returns the counter of state values not understood, by
// reason (telekernel_detect_unknown_states_total{reason}).
func (m *Metrics) UnknownStates(reason string) prometheus.Counter {
	return m.unknownStates.WithLabelValues(reason)
}

// LinkDownHolds returns the counter of the detect stage's held link_downs
// by outcome, held or shut (telekernel_detect_link_down_holds_total{outcome}).
func (m *Metrics) LinkDownHolds(outcome string) prometheus.Counter {
	return m.linkDownHolds.WithLabelValues(outcome)
}

// Expired counts n series (detect) or devices (power) whose state a
// stage dropped after they went silent
// (telekernel_detect_series_expired_total{stage}).
func (m *Metrics) Expired(stage string, n int) { m.expired.WithLabelValues(stage).Add(float64(n)) }

// PowerUnmeasured returns the counter of the power stage's device ticks
// without a measurement, by reason
// (telekernel_power_unmeasured_ticks_total{reason}).
func (m *Metrics) PowerUnmeasured(reason string) prometheus.Counter {
	return m.unmeasured.WithLabelValues(reason)
}

// PowerDropped returns the counter of the sample values the power stage
// drops as impossible, by reason
// (telekernel_power_dropped_values_total{reason}).
func (m *Metrics) PowerDropped(reason string) prometheus.Counter {
	return m.powerDropped.WithLabelValues(reason)
}

// MaintainDropped returns the counter of the sample values the maintain
// stage drops as impossible, by reason
// (telekernel_maintain_dropped_values_total{reason}).
func (m *Metrics) MaintainDropped(reason string) prometheus.Counter {
	return m.maintainDropped.WithLabelValues(reason)
}
