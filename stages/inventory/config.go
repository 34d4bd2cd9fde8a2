package inventory

import (
	"fmt"
	"time"

	"github.com/telekernel/telekernel/internal/cfgcheck"
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
	// named for this long, in the event time of the device reporting it,
	// and a device that sent none for as long; default DefaultLLDPExpiry
	// (3m). A device's clock set ahead or behind the others' moves no
	// other device's expiry.
	LLDPExpiry time.Duration `yaml:"lldp_expiry"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Enabled == nil {
		on := true
		c.Enabled = &on
	}
	cfgcheck.Default(&c.Topic, kafka.DefaultInventoryTopic)
	cfgcheck.Default(&c.Partitions, DefaultPartitions)
	cfgcheck.Default(&c.LLDPExpiry, DefaultLLDPExpiry)
	return c
}

// Validate reports the first bad field as "field: problem", its path
// below inventory.
func (c Config) Validate() error {
	if err := kafka.CheckTopicName(c.Topic); err != nil {
		return fmt.Errorf("topic: %w", err)
	}
	return cfgcheck.First(
		cfgcheck.AtLeast("partitions", c.Partitions, 1),
		cfgcheck.Check(c.LLDPExpiry < 0, "lldp_expiry: must not be negative"),
	)
}

// On reports whether the stage runs (Enabled, default true).
func (c Config) On() bool { return c.Enabled == nil || *c.Enabled }
