package share

import (
	"errors"
	"fmt"
	"time"

	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/kafka"
)

// Defaults of Config.
const (
	DefaultName           = "telekernel-collect"
	DefaultTopic          = "tk.collect.control"
	DefaultBuckets        = 64
	DefaultSessionTimeout = 10 * time.Second
	// MaxBuckets bounds Config.Buckets (partitions of the control topic).
	MaxBuckets = 1024
)

// Config is the `group:` section of a collector config. With Enabled
// false (the default) a collector collects every target it lists.
type Config struct {
	// Enabled makes the process share its targets with the other
	// processes of the same group.
	Enabled bool `yaml:"enabled"`
	// Name is the consumer group; the collector kind is appended
	// ("telekernel-collect.gnmi"), so gNMI and SNMP collectors on one
	// name share independently. Default DefaultName.
	Name string `yaml:"name"`
	// Topic is the control topic; no record is ever written to it, its
	// partitions are the buckets. Default DefaultTopic.
	Topic string `yaml:"topic"`
	// Buckets is the number of buckets targets are hashed into, and the
	// number of partitions the control topic is created with. Every
	// process of the group must have the same. An existing topic must have
	// at least as many partitions (Join fails on fewer); its partitions
	// above Buckets hold no target, logged at ERROR. More buckets spread
	// targets more evenly over more processes. Default DefaultBuckets.
	Buckets int32 `yaml:"buckets"`
	// SessionTimeout is how long the group waits for a silent member (a
	// killed process) before its targets move; heartbeats go every fifth
	// of it. Default DefaultSessionTimeout; 6s to 30m, the broker's usual
	// bounds.
	SessionTimeout time.Duration `yaml:"session_timeout"`
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Name, DefaultName)
	cfgcheck.Default(&c.Topic, DefaultTopic)
	cfgcheck.Default(&c.Buckets, DefaultBuckets)
	cfgcheck.Default(&c.SessionTimeout, DefaultSessionTimeout)
	return c
}

// Validate reports the first bad field as "field: problem" (call it on
// WithDefaults' result).
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	if err := kafka.CheckTopicName(c.Topic); err != nil {
		return fmt.Errorf("topic: %w", err)
	}
	if c.Name == "" || len(c.Name) > 200 {
		return errors.New("name: must be 1 to 200 characters")
	}
	if c.Buckets < 1 || c.Buckets > MaxBuckets {
		return fmt.Errorf("buckets: %d is not between 1 and %d", c.Buckets, MaxBuckets)
	}
	if c.SessionTimeout < 6*time.Second || c.SessionTimeout > 30*time.Minute {
		return fmt.Errorf("session_timeout: %v is outside the broker's usual bounds (6s to 30m)", c.SessionTimeout)
	}
	return nil
}
