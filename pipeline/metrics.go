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
	catchUp     *prometheus.CounterVec
	aborts      *prometheus.CounterVec
	lag         *prometheus.GaugeVec
	stateBytes  *prometheus.GaugeVec
	// unknownStates counts state values the detect stage did not
	// understand (kept as the series' raw state), by reason.
	unknownStates *prometheus.CounterVec
	// linkDownHolds counts the detect stage's held link_downs
	// (detect.states.shut_grace), by outcome.
	linkDownHolds *prometheus.CounterVec
	droppedRows   *prometheus.CounterVec
	// expired counts, by stage, the keys whose state a stage dropped
	// because no sample came for its expiry: the detect stage's series
	// (detect.series_expiry), the power stage's devices
	// (power.device_expiry).
	expired *prometheus.CounterVec
	// unmeasured counts the power stage's device ticks without a
	// measurement, by reason (detectors/power.Unmeasured).
	unmeasured *prometheus.CounterVec
	// powerDropped and maintainDropped count the sample values the power
	// and maintain stages drop as impossible, by reason
	// (detectors/power.Drop, detectors/maintenance.Drop).
	powerDropped, maintainDropped *prometheus.CounterVec
}

// NewMetrics registers the runtime's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	counter := func(subsystem, name, help string, labels ...string) *prometheus.CounterVec {
		return mustRegister(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "telekernel", Subsystem: subsystem, Name: name, Help: help}, labels))
	}
	gauge := func(subsystem, name, help string) *prometheus.GaugeVec {
		return mustRegister(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "telekernel", Subsystem: subsystem, Name: name, Help: help}, []string{"stage"}))
	}
	return &Metrics{
		records:     counter("stage", "records_total", "Kafka records consumed.", "stage"),
		deadLetters: counter("stage", "dead_letters_total", "Records sent to the dead-letter topic, by reason.", "stage", "reason"),
		written:     counter("stage", "rows_flushed_total", "Rows the stage's sink made durable.", "stage"),
		flushErrors: counter("stage", "flush_errors_total", "Failed flushes (retried with backoff).", "stage"),
		flushTime: mustRegister(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "telekernel", Subsystem: "stage", Name: "flush_seconds",
			Help: "Time of a sink's flush (to before its offsets' commit), or of a transaction from its start to its commit.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}, []string{"stage"})),
		outputs: counter("detect", "detections_total",
			"Detection events emitted, by state; counted when emitted, so those of an aborted transaction, or of input a restore replays, count again.", "state"),
		series:     gauge("detect", "series", "Series with detector state in memory."),
		rebalances: counter("stage", "rebalances_total", "Partition assignments, revocations and losses.", "stage"),
		changelog:  counter("stage", "changelog_records_total", "State records written to the changelog.", "stage"),
		catchUp: counter("stage", "catch_up_transactions_total",
			"Committed transactions in which a poll found the stage behind its input, so they collected input for transaction.catch_up rather than transaction.interval.", "stage"),
		aborts: counter("stage", "transaction_aborts_total",
			"Transactions a transactional stage aborted to retry (a rebalance, a rejected write, a restore that failed, a commit that failed on the broker's side, one that outlived the transaction timeout): their input is processed again. An abort on the way out (a stop that could not commit, a fatal error) is not counted.", "stage"),
		lag: gauge("stage", "lag_records",
			"Records (and transaction markers) between the stage's position and the end of its owned input partitions, sampled every few seconds."),
		stateBytes: gauge("detect", "state_bytes", "Approximate bytes of per-series detector state in memory."),
		unknownStates: counter("detect", "unknown_states_total",
			"State values not understood (kept as the raw state, no verdict), by reason: unknown_value (a vendor enum), indeterminate (UNKNOWN, TESTING).", "reason"),
		linkDownHolds: counter("detect", "link_down_holds_total",
			"Link downs held for detect.states.shut_grace (outcome held), and those of them an admin-status DOWN then showed to be a shut, announced as admin_down only (outcome shut); counted when processed, so input a restore replays counts again.", "outcome"),
		expired: counter("detect", "series_expired_total",
			"Series (detect) or devices (power) whose state was dropped (a tombstone in the changelog) because no sample came for detect.series_expiry or power.device_expiry of event time; one that comes back starts cold.", "stage"),
		unmeasured: counter("power", "unmeasured_ticks_total",
			"Device ticks (instants a device sent samples at) the power stage did not measure the device at, by reason: waiting (a PSU reading more than 10 times, or the device's PSU total more than 1.25 times, off the one held waits for the next to confirm it), stale (a PSU without a reading received within power.model.psu_max_age), none (no PSU readings); a tick that brings no PSU value is not counted. Counted when processed, so input a restore replays counts again.", "reason"),
		powerDropped: counter("power", "dropped_values_total",
			"Samples whose value the power stage drops as impossible, by reason: psu_reading (a PSU input reading not a gauge, NaN, negative or above 1e9), over_speed (a byte counter's rate above twice its port's speed), garbled (a port speed or transceiver presence that is none). Counted when processed, so input a restore replays counts again.", "reason"),
		maintainDropped: counter("maintain", "dropped_values_total",
			"Samples whose value the maintain stage drops as impossible, by reason: threshold (a device alarm threshold not finite, or one no transceiver can have: input-power-lower at or below -40 dBm or above +20 dBm, laser-bias-current-upper at or below 0 mA or above 1000 mA), not_finite (a NaN or infinite reading of a health signal or covariate). Counted when processed, so input a restore replays counts again.", "reason"),
		droppedRows: counter("stage", "rows_dropped_total",
			"Single rows of otherwise good messages that the stage dropped, by reason (bad_timestamp, invalid_utf8, bad_name).", "stage", "reason"),
	}
}

// mustRegister registers c with reg and returns it; it panics as
// prometheus.Registerer.MustRegister does.
func mustRegister[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	reg.MustRegister(c)
	return c
}
