// Package pipeline is telekernel's stage runtime: a consumer-group Runner
// that feeds records to a Sink and commits offsets only after the sink made
// them durable (at least once), a TransactRunner that runs a Processor
// exactly once with its state in a compacted changelog (StateKey names a
// series there; a Holder may emit a record's outputs after Process, before
// the transaction's checkpoint), dead letters for records that cannot be decoded,
// ReadSamples (the decode and row cleaning every stage that reads samples
// shares), and the stages' Prometheus metrics (Metrics; internal/httpserve
// serves them).
// The stages themselves live in stages/ (Kafka→Kafka) and sinks/; app
// wires them from its stage registry.
//
// A drain (DrainTo) stops a stage once every partition of the target end
// offsets is committed: partitions the member owns by what it processed
// and committed, partitions it does not own (never had, revoked, or lost
// with its session) by what its consumer group committed, so a member that
// lost its partitions is not drained. Behind tells how far a group's
// committed offsets are from a target.
package pipeline
