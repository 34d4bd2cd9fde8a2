package correlate

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/telekernel/telekernel/detectors/incidents"
	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/kafka"
)

// Defaults of Config.
const (
	DefaultTopic      = "tk.incidents"
	DefaultInput      = "tk.incidents.input"
	DefaultPartitions = 1
	DefaultReload     = 10 * time.Second
	DefaultSource     = "telekernel/correlate"
)

// Config configures the correlate stage (the config file's correlate:
// section).
type Config struct {
	// Enabled runs the stage in `telekernel run`; default true.
	Enabled *bool `yaml:"enabled"`
	// Topic receives the incidents, compacted, keyed by incident id;
	// default DefaultTopic (tk.incidents).
	Topic string `yaml:"topic"`
	// Input is the topic Route writes the detections to, keyed by site,
	// and Correlate reads; default DefaultInput (tk.incidents.input).
	Input string `yaml:"input"`
	// Partitions of Input when the stage creates it; default
	// DefaultPartitions (1): every detection meets every other in one
	// engine. With more, sites spread over partitions and an incident
	// spanning two sites (a link between them) may come out as one per
	// site.
	Partitions int32 `yaml:"partitions"`
	// Inventory is the path of an operator's inventory file (YAML, or
	// CSV when it ends in .csv); empty: the simulator's fleet when the
	// simulator runs, else none (detections group by device and time).
	Inventory string `yaml:"inventory"`
	// Reload is how often the inventory file's modification time is
	// checked; a changed file is re-read without a restart. Default
	// DefaultReload (10s).
	Reload time.Duration `yaml:"reload"`
	// Source is the CloudEvents source of incidents; default
	// DefaultSource (telekernel/correlate).
	Source string `yaml:"source"`
	// Engine configures the incident rules (detectors/incidents.Config).
	Engine incidents.Config `yaml:"engine"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Enabled == nil {
		on := true
		c.Enabled = &on
	}
	cfgcheck.Default(&c.Topic, DefaultTopic)
	cfgcheck.Default(&c.Input, DefaultInput)
	cfgcheck.Default(&c.Partitions, DefaultPartitions)
	cfgcheck.Default(&c.Reload, DefaultReload)
	cfgcheck.Default(&c.Source, DefaultSource)
	c.Engine = c.Engine.WithDefaults()
	return c
}

// Validate reports the first bad field as "field: problem", its path
// below correlate, and an inventory file that does not exist.
func (c Config) Validate() error {
	if err := kafka.CheckTopicName(c.Topic); err != nil {
		return fmt.Errorf("topic: %w", err)
	}
	if err := kafka.CheckTopicName(c.Input); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	switch {
	case c.Input == c.Topic:
		return fmt.Errorf("input: %q is also topic", c.Input)
	case c.Partitions < 1:
		return fmt.Errorf("partitions: %d must be at least 1", c.Partitions)
	case c.Reload < 0:
		return errors.New("reload: must not be negative")
	}
	if err := c.Engine.Validate(); err != nil {
		return fmt.Errorf("engine.%w", err)
	}
	if c.Inventory != "" {
		if _, err := os.Stat(c.Inventory); err != nil {
			return fmt.Errorf("inventory: cannot read inventory: %w", err)
		}
	}
	return nil
}
