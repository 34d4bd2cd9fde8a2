// Package collectors is the root of telekernel's ingestion side: the gNMI and
// SNMP collectors, the shared publisher that batches samples into Arrow
// records and produces them to Kafka (publish), and a simulated device fleet
// with ground-truth fault labels (sim).
//
// The metric names every collector publishes and the simulator serves are
// the vocabulary of package schemas (schemas.Metric…, schemas.Metrics),
// SNMP-only names included: no collector defines a metric name of its own.
package collectors
