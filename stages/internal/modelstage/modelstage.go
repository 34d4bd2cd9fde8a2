// Package modelstage holds the configuration shared by the stages that run
// one model over the samples and stamp what they emit with a CloudEvents
// source (power, maintain).
package modelstage

import "fmt"

// Model is what a stage's model configuration provides: its defaults and
// its validation (detectors/power.Config, detectors/maintenance.Config).
type Model[M any] interface {
	WithDefaults() M
	Validate() error
}

// Config configures a stage that runs one model. A stage embeds it inline
// (`yaml:",inline"`) in its own config type, which adds WithDefaults with
// the stage's default source.
type Config[M Model[M]] struct {
	// Model configures the stage's model (see its package's Config).
	Model M `yaml:"model"`
	// Source is the CloudEvents source of what the stage emits; its default
	// is the stage's (telekernel/STAGE).
	Source string `yaml:"source"`
}

// Defaults returns c with the model's defaults and, when Source is empty,
// source.
func (c Config[M]) Defaults(source string) Config[M] {
	c.Model = c.Model.WithDefaults()
	if c.Source == "" {
		c.Source = source
	}
	return c
}

// Validate reports the first bad field, with its path.
func (c Config[M]) Validate() error {
	if err := c.Model.Validate(); err != nil {
		return fmt.Errorf("model.%w", err)
	}
	return nil
}
