// Package correlate is the correlate stage: it turns the detections topic
// into incidents (detectors/incidents), one per root cause, on the
// compacted tk.incidents topic keyed by incident id.
//
// It runs as two exactly-once Kafka→Kafka processors. Route reads the
// detections topic (keyed by alert fingerprint, so one link's two ends
// land on different partitions) and re-keys every detection by its
// device's site onto the correlate input topic, one partition by default;
// Stage reads that topic and keeps one incident engine per input
// partition, its state in the changelog, so all the detections an incident
// needs meet in one engine. Both look devices up in an inventory.View
// (stages/inventory): the inventory topic, followed live, or while it is
// empty the operator's YAML or CSV file, re-read when it changes.
package correlate
