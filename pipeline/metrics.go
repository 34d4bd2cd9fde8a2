package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the stage runtime's Prometheus metrics, labelled by stage.
// Create one per registry with NewMetrics and share it between runners.
type Metrics struct {
	records     *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	written     *prometheus.CounterVec
	flushErrors *prometheus.CounterVec
	flushTime   *prometheus.HistogramVec
	outputs     *prometheus.CounterVec
	series      *prometheus.GaugeVec
	rebalances  *prometheus.CounterVec
	changelog   *prometheus.CounterVec
	lag         *prometheus.GaugeVec
	stateBytes  *prometheus.GaugeVec
	// unknownStates counts state values the detect stage did not
	// understand (kept as the series' raw state), by reason.
	unknownStates *prometheus.CounterVec
	droppedRows   *prometheus.CounterVec
}

// NewMetrics registers the runtime's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := func(c prometheus.Collector) prometheus.Collector { reg.MustRegister(c); return c }
	return &Metrics{
		records: f(prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "telekernel", Subsystem: "stage", Name: "records_total",
			Help: "Kafka records consumed.",
		}, []string{"stage"})).(*prometheus.CounterVec),
		deadLetters: f(prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "telekernel", Subsystem: "stage", Name: "dead_letters_total",
			Help: "Records sent to the dead-letter topic, by reason.",
		}, []string{"stage", "reason"})).(*prometheus.CounterVec),
		written: f(prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "telekernel", Subsystem: "stage", Name: "rows_flushed_total",
			Help: "Rows the stage's sink made durable.",
		}, []string{"stage"})).(*prometheus.CounterVec),
		flushErrors: f(prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "telekernel", Subsystem: "stage", Name: "flush_errors_total",
			Help: "Failed flushes (retried with backoff).",
		}, []string{"stage"})).(*prometheus.CounterVec),
		flushTime: f(prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "telekernel", Subsystem: "stage", Name: "flush_seconds",
			Help: "Time to flush a batch and commit its offsets.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}, []string{"stage"})).(*prometheus.HistogramVec),
		outputs: f(prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "telekernel", Subsystem: "detect", Name: "detections_total",
			Help: "Detection events emitted, by state.",
		}, []string{"state"})).(*prometheus.CounterVec),
		series: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "telekernel", Subsystem: "detect", Name: "series",
			Help: "Series with detector state in memory.",
		}, []string{"stage"})).(*prometheus.GaugeVec),
		rebalances: f(prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "telekernel", Subsystem: "stage", Name: "rebalances_total",
			Help: "Partition assignments, revocations and losses.",
		}, []string{"stage"})).(*prometheus.CounterVec),
		changelog: f(prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "telekernel", Subsystem: "stage", Name: "changelog_records_total",
			Help: "State records written to the changelog.",
		}, []string{"stage"})).(*prometheus.CounterVec),
		lag: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "telekernel", Subsystem: "stage", Name: "lag_records",
			Help: "Records (and transaction markers) between the stage's position and the end of its owned input partitions, sampled every few seconds.",
		}, []string{"stage"})).(*prometheus.GaugeVec),
		stateBytes: f(prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "telekernel", Subsystem: "detect", Name: "state_bytes",
			Help: "Approximate bytes of per-series detector state in memory.",
		}, []string{"stage"})).(*prometheus.GaugeVec),
		unknownStates: f(prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "telekernel", Subsystem: "detect", Name: "unknown_states_total",
			Help: "State values not understood (kept as the raw state, no verdict), by reason: unknown_value (a vendor enum), indeterminate (UNKNOWN, TESTING).",
		}, []string{"reason"})).(*prometheus.CounterVec),
		droppedRows: f(prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "telekernel", Subsystem: "stage", Name: "rows_dropped_total",
			Help: "Single rows of otherwise good messages that the stage dropped, by reason (bad_timestamp, invalid_utf8).",
		}, []string{"stage", "reason"})).(*prometheus.CounterVec),
	}
}
