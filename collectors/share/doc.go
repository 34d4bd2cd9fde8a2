// Package share lets several collector processes started with the same
// configuration share its targets, with Kafka as the only coordinator.
//
// Every process joins one consumer group on a small control topic whose
// partitions are buckets; a target belongs to bucket Bucket(name, n), and a
// process collects the targets of the buckets (partitions) Kafka assigns to
// it. The group uses the cooperative-sticky balancer, so a rebalance moves
// only the buckets that must move: when a process joins, the buckets it
// takes are first revoked from their owners (whose callback stops those
// targets) and only then assigned to it; when a process dies, its buckets
// go to the others once its session times out.
//
// The package knows nothing of gNMI or SNMP: it tells a collector which
// target names it owns and calls back on every change.
package share
