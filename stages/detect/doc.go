// Package detect is the detect stage: an exactly-once Processor (run by
// pipeline.TransactRunner) that reads sample batches, turns counters into
// rates, scores counter rates and gauges with the detector ensemble
// (detectors/ensemble), follows states as events (detectors/stateevents)
// and correlated groups (detectors/multivar), runs the rules beside the
// ensemble (an error counter's quiet rule, detectors/rate; an optic
// power's envelope rule, detectors/drift), and emits firing and resolved
// detections (schemas.Detection) keyed by fingerprint. Its per-series state
// goes to the changelog in the transaction that consumed the samples
// (state.go holds the codec), so a new owner continues where the last
// commit left off. A message of many samples has its series' ensembles
// updated on detect.workers goroutines (detect_parallel.go; under the
// TransactRunner, pipeline.Holder, they finish a message while the next
// is read), and a large checkpoint is encoded on them (checkpoint.go);
// what the stage emits, in what order, and its state are the serial
// path's, byte for byte. Config
// is the detect: section of the config file; app registers the stage as
// "detect".
package detect
