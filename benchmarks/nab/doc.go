// Package nab is telekernel's harness for the Numenta Anomaly Benchmark
// (NAB): it reads NAB-format data and labels, runs a streaming detector over
// every file one point at a time, writes NAB's results layout (so NAB's own
// scorer can score the same files), and scores the results with a Go
// implementation of NAB v1.1's scorer: anomaly windows, the scaled sigmoid,
// the three application profiles, the probationary period, threshold
// optimisation and normalisation between the null and the perfect detector.
//
// The scorer reproduces the official scores of the reference detectors
// shipped with the data (see score_test.go). The rules it implements are
// described in the data's SCORING.md.
package nab
