// Package detectors is the root of telekernel's analytics: counter-to-rate
// conversion, anomaly detectors, and the alert layer that turns scores into
// firing/resolved transitions. Everything under it is pure computation: no
// I/O, no clocks, no Kafka or database code. Time comes in with the samples,
// so a detector given the same input always gives the same output, and no
// score depends on later data.
//
// Subpackages:
//   - rate: counter → per-second rate at full uint64 precision, reset- and
//     wrap-safe.
//   - robustz: robust z-score over a sliding window (median and MAD).
//   - ewma: z-score against an exponentially weighted mean and variance.
//   - seasonal: Holt-Winters style seasonal baseline by time-of-period bins.
//   - changepoint: CUSUM and Page-Hinkley level-shift tests.
//   - hst: Half-Space Trees, a streaming forest over shingles.
//   - multivar: Mahalanobis distance over a device's related series, with
//     per-series contributions (gonum).
//   - rangebreak: breaks of the range a series has ever visited.
//   - likelihood: calibration of raw scores (record ratio, anomaly
//     likelihood).
//   - ensemble: all of the above on one series, one calibrated score,
//     explanation and alert hysteresis.
//   - alert: hysteresis that makes one incident one alert (z-score based).
//   - stateevents: state samples (oper-status, session-state, …) and the
//     counters that are really state → link/session down, admin down,
//     flapping, carrier flaps and lost neighbours.
//
// Every stateful detector has MarshalBinary/UnmarshalBinary (a kind tag and
// a version byte first) and StateBytes. See README.md.
package detectors
