// Package app wires telekernel's components into the processes the CLI
// runs: the embedded default (simulator, in-process broker, the stages,
// Parquet) and the same pipeline on a real Kafka and ClickHouse.
//
// Its stage registry (Stages, in stages.go) is the one list of stages:
// one row per stage with its name, input topic, drain phase, when the
// configuration enables it, how to build it and what it adds to the
// summary. Run, `telekernel stage NAME`, `telekernel check` (through
// ParseConfig) and the summary all read it. app/live and app/tui are the
// live state and the terminal view of a run.
package app
