// Package detectors is the root of telekernel's analytics: counter-to-rate
// conversion, anomaly detectors, and the alert layer that turns scores into
// firing/resolved transitions. Everything under it is pure computation: no
// I/O, no clocks, no Kafka or database code. Time comes in with the samples,
// so a detector given the same input always gives the same output.
//
// Subpackages:
//   - rate: counter → per-second rate at full uint64 precision, reset-safe.
//   - robustz: robust z-score over a sliding window (median and MAD).
//   - alert: hysteresis that makes one incident one alert.
package detectors
