// Package config is telekernel's YAML configuration: one file for every
// command (run, stage, sim, eval, schema apply, check, and collect through
// its collect section), with defaults for everything, strict parsing (an
// unknown field is an error) and validation errors that name the file, line
// and field at fault. Which stages exist is the stage registry's business
// (app.Stages): stages: names them, and Runs tells whether a process runs
// one.
//
// A section that configures a component embeds that component's Config
// (clickhouse.Config, parquet.Config, alertmanager.Config,
// collectors.Section, …), so each setting has one home and its default
// lives in the component's WithDefaults. Spellings of earlier releases (a
// collector-only file, clickhouse password_file, tls.enable) still load;
// Config.Deprecated returns one line for each, which the commands log.
package config
