// Package pipeline is telekernel's stage runtime: Kafka clients built from
// config, a consumer-group Runner that feeds records to a Sink and commits
// offsets only after the sink made them durable, a TransactRunner that runs
// a Processor exactly once with its state in a changelog, dead letters for
// records that cannot be decoded, and the built-in stages (Detect, Power,
// Maintain). It also serves the Prometheus metrics and health endpoints.
//
// A drain (DrainTo) stops a stage once every partition of the target end
// offsets is committed: partitions the member owns by what it processed
// and committed, partitions it does not own (never had, revoked, or lost
// with its session) by what its consumer group committed, so a member that
// lost its partitions is not drained. Behind tells how far a group's
// committed offsets are from a target.
package pipeline
