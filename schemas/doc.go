// Package schemas holds telekernel's data contracts: the Arrow schema of the
// samples that collectors publish, the Kafka message codec that carries them
// (one Arrow IPC stream per message, with content-type and schema-version
// headers), the detection event JSON contract, and the ClickHouse DDL.
//
// It also holds the metric vocabulary (metrics.go): the metric names that
// collectors publish and models read, each defined once (MetricInOctets, …)
// with its kind, unit and origin (Metrics, LookupMetric).
//
// Every contract carries a version. A decoder that meets a version it does
// not know returns an error wrapping ErrUnknownVersion instead of guessing, so
// the caller can dead-letter the message.
//
// The package does no I/O and imports no Kafka, ClickHouse or network code.
package schemas
