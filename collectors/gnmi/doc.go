// Package gnmi is telekernel's gNMI collector: it subscribes to network
// devices (STREAM with SAMPLE, ON_CHANGE or TARGET_DEFINED subscriptions,
// ONCE and POLL; PROTO and JSON_IETF encodings), turns every update into a
// sample of the samples contract, and hands Arrow records per device to the
// publisher.
//
// Decoding works on the protobuf wire bytes of each SubscribeResponse and
// appends straight into a schemas.SampleBuilder (Decoder): no generic
// message tree is built, and a leaf's metric name and keys are worked out
// once per series and cached by its raw path bytes.
//
// Paths map to metrics as the samples contract says: the metric is the
// OpenConfig path without list keys
// ("/interfaces/interface/state/counters/in-octets"), the keys are the list
// keys in canonical form ("name=Ethernet1"). Counters go to value_u64 at
// full precision (JSON_IETF uint64 strings are parsed as integers, never as
// floats), gauges to value_f64, states to value_str. The kinds of the
// vocabulary's fixed leaves come from schemas.Metrics (openconfig.go);
// other leaves are classified by OpenConfig convention or by their first
// value. README.md in the collectors folder has the table of documented
// metrics.
//
// Files: decode.go walks a SubscribeResponse and keeps the series caches,
// dedup.go tells a resent sample from a device clock stepping back,
// value.go turns a TypedValue into a value of the series' kind, psu.go
// derives a power supply's input power, lldp.go counts each port's LLDP
// neighbours (aging out those a sampling target stops sending), path.go
// maps paths to metric and keys, json.go reads JSON_IETF; collector.go
// runs the subscriptions and prom.go holds the Prometheus metrics.
//
// Without subscriptions in its config, a target gets DefaultPaths:
// interfaces, components, LLDP neighbours and BGP and BFD session states.
//
// The Collector runs one goroutine per subscription of each target, with
// its own reconnect loop (exponential backoff with jitter), so a target that
// misbehaves never holds up the others; targets can be replaced while it
// runs (Collector.SetTargets). A stream is healthy while it delivers
// responses, with or without a sync_response; batches are cut while a
// notification is decoded, so one of any size reaches Kafka in records the
// topic accepts; values with a timestamp outside the accepted window are
// dropped one by one and invalid UTF-8 is repaired, both counted; the
// series caches are bounded (Target.MaxCacheBytes).
package gnmi
