// Package power is the power stage: an exactly-once Processor that keeps a
// power estimator (detectors/power) per input partition, emits one
// tk.power message per device and window and, when a device's measured
// power departs from its model, firing and resolved detections. Config
// is the power: section of the config file; app registers the
// stage as "power".
package power
