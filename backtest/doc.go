// Package backtest replays recorded telemetry in event time through exactly
// the detect stage's code (detect.Stage) and scores the detections
// against labelled events.
//
// Run builds Arrow sample batches with the schemas encoder (one device per
// batch, timestamp order, the shape the collectors publish), wraps each in a
// Kafka record, hands it to detect.Stage.Process and decodes what it emits
// with the schemas decoder, so a backtest runs the same detectors, with the
// same detect configuration section, as `telekernel run` and
// `telekernel stage detect`.
//
// Sources read the project's own Parquet lake (OpenLake), NAB CSVs
// (NABSource) and wide CSV exports with one column per feature (OpenWide:
// counter, gauge and state columns, the time column in epoch units or
// date-times, missing-value cells skipped and counted; with a metric
// mapping that a YAML file can override). Labels (ReadLabels)
// come from the simulator's labels.jsonl, a CSV with a header, or the
// bigdama18 layout. OpenSim and LoadSim run the simulated fleet in memory,
// with the samples `telekernel run` collects from it, and ScoreSim scores
// the detections against the simulator's ground truth fault by fault and
// kind by kind (SimKindPaths). Score computes per-event latency, missed events and
// false incidents per device-hour.
package backtest
