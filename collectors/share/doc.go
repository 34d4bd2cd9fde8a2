// Package share lets several collector processes started with the same
// configuration share its targets, with Kafka as the only coordinator.
//
// Every process joins one consumer group on a small control topic whose
// partitions are buckets; a target belongs to bucket Bucket(name, n), and a
// process collects the targets of the buckets (partitions) Kafka assigns to
// it.
//
// n is group.buckets (Config.Buckets), the same in every process started
// with the same configuration, and never the topic's partition count read
// at start: the count can change under a running group (kafka-topics
// --alter), and processes that read it at different times hashed targets
// differently, so some targets were collected twice and others by nobody,
// silently. The topic must have at least n partitions (Join refuses fewer:
// those buckets would have no owner); partitions above n are assigned like
// the others but hold no target. A count other than n is logged once at
// ERROR, with what to do, at Join and at the assignment that follows a
// change of the topic. Changing n itself means restarting every process of
// the group together, as with any change of the shared configuration. The group uses the cooperative-sticky balancer, so a rebalance moves
// only the buckets that must move: when a process joins, the buckets it
// takes are first revoked from their owners (whose callback stops those
// targets) and only then assigned to it; when a process dies, its buckets
// go to the others once its session times out.
//
// The package knows nothing of gNMI or SNMP: it tells a collector which
// target names it owns and calls back on every change.
package share
