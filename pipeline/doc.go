// Package pipeline is telekernel's stage runtime: Kafka clients built from
// config, a consumer-group Runner that feeds records to a Sink and commits
// offsets only after the sink made them durable, dead letters for records
// that cannot be decoded, and the built-in stages (Detect). It also serves
// the Prometheus metrics and health endpoints.
package pipeline
