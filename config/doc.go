// Package config is telekernel's YAML configuration: one file for every
// command, with defaults for everything, strict parsing (an unknown field is
// an error) and validation errors that name the file, line and field at
// fault. Which stages exist is the stage registry's business (app.Stages):
// stages: names them, and Runs tells whether a process runs one.
package config
