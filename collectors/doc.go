// Package collectors is the root of telekernel's ingestion side: the gNMI and
// SNMP collectors, the shared publisher that batches samples into Arrow
// records and produces them to Kafka (publish), and a simulated device fleet
// with ground-truth fault labels (sim).
package collectors
