// Package alertstate keeps the compacted alerts topic (tk.alerts by
// default): each detection is written keyed by its fingerprint, so once
// Kafka has compacted the topic the latest record of every key is the
// current state (firing or resolved) of that alert. An alerting system can
// read the current alerts with nothing but a Kafka client and a JSON
// parser; Load does that in Go. LoadAsOf returns the state as another
// consumer group of the detections has consumed them up to its committed
// offsets (the Alertmanager bridge's, when it restores its firing alerts):
// Load's state with the detections between the two groups' committed
// offsets applied where the alertstate stage lags it.
//
// Records are the detection records as they arrived (value and CloudEvents
// headers unchanged), keyed by fingerprint. Resolved alerts stay in the
// topic as their resolved record; the Sink deletes nothing. A tombstone
// written by someone else (to retire an alert for good) deletes its key
// for Load and LoadAsOf, as compaction will.
//
// The Sink drops the detections it holds of an input partition its runner
// lost (pipeline.PartitionDropper), so it never writes an alert's older
// state after the partition's new owner wrote a newer one.
package alertstate
