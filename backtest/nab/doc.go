// Package nab reads the Numenta Anomaly Benchmark (NAB) and scores
// detector output with it: NAB-format data and labels, a runner that
// feeds a streaming detector every file one point at a time, NAB's results
// layout (so NAB's own scorer can score the same files), and a Go
// implementation of NAB v1.1's scorer: anomaly windows, the scaled
// sigmoid, the three application profiles, the probationary period,
// threshold optimisation and normalisation between the null and the
// perfect detector.
//
// The scorer reproduces the official scores of the reference detectors
// shipped with the data (see score_test.go). The rules it implements are
// described in the data's SCORING.md. The package holds no detector; the
// binary's backtests (package backtest) score the detect stage's firing
// detections with it.
package nab
