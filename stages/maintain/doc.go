// Package maintain is the maintain stage: an exactly-once Processor that
// follows the health trends of gauges per input partition
// (detectors/maintenance) and emits maintenance events
// (schemas.MaintenanceEvent) to the maintenance topic as cases open, move
// and close. Config is the maintain: section of the config
// file; app registers the stage as "maintain".
package maintain
