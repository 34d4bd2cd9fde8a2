// Package inventory is the inventory stage and the inventory view the
// correlate stage looks devices up in.
//
// The stage (Stage, a pipeline.Sink) reads the samples topic, keeps only
// the LLDP neighbour samples (schemas.MetricLLDPNeighborSystemName and
// MetricLLDPNeighborPortID), merges the links they describe with the
// operator's inventory file (LoadFile, re-read when it changes) or the
// simulated fleet's topology, and publishes the result to the compacted
// inventory topic (tk.inventory), one record per device (Split), on change
// only. Follow reads that topic into a View (Merger merges its records), so
// the correlate stage's rows swap their inventory without a restart; while
// the topic is empty a View gives its base (the file, or a fixed
// inventory).
package inventory
