package inventory

import (
	"errors"
	"fmt"
	"time"

	"github.com/telekernel/telekernel/kafka"
)

// Defaults of Config.
const (
	// DefaultLLDPExpiry is how long a neighbour stays without an LLDP
	// sample: a few collection intervals.
	DefaultLLDPExpiry = 3 * time.Minute
	// DefaultPartitions of the inventory topic when the stage creates it.
	DefaultPartitions = 1
)

// Config configures the inventory stage and how the correlate stage reads
// the inventory (the config file's inventory: section). The operator's
// file is correlate.inventory, reloaded every correlate.reload.
type Config struct {
	// Enabled runs the inventory stage in `telekernel run` and makes the
	// correlate stage follow Topic; default true. false: the correlate
	// stage reads correlate.inventory (or the simulated fleet) only.
	Enabled *bool `yaml:"enabled"`
	// Topic is the compacted inventory topic, one record per device;
	// default kafka.DefaultInventoryTopic (tk.inventory).
	Topic string `yaml:"topic"`
	// Partitions of Topic when the stage creates it; default
	// DefaultPartitions (1).
	Partitions int32 `yaml:"partitions"`
	// LLDPExpiry removes a neighbour (and its link) that no LLDP sample
	// named for this long, in the samples' event time; default
	// DefaultLLDPExpiry (3m).
	LLDPExpiry time.Duration `yaml:"lldp_expiry"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Enabled == nil {
		on := true
		c.Enabled = &on
	}
	if c.Topic == "" {
		c.Topic = kafka.DefaultInventoryTopic
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.LLDPExpiry == 0 {
		c.LLDPExpiry = DefaultLLDPExpiry
	}
	return c
}

// Validate reports the first bad field as "field: problem", its path
// below inventory.
func (c Config) Validate() error {
	if err := kafka.CheckTopicName(c.Topic); err != nil {
		return fmt.Errorf("topic: %w", err)
	}
	switch {
	case c.Partitions < 1:
		return fmt.Errorf("partitions: %d must be at least 1", c.Partitions)
	case c.LLDPExpiry < 0:
		return errors.New("lldp_expiry: must not be negative")
	}
	return nil
}

// On reports whether the stage runs (Enabled, default true).
func (c Config) On() bool { return c.Enabled == nil || *c.Enabled }
