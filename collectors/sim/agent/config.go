package agent

import (
	"crypto/tls"
	"fmt"
	"log/slog"
)

// Config configures an Agent.
type Config struct {
	// Host is the address the device servers listen on; default 127.0.0.1.
	Host string `yaml:"host"`
	// BasePort gives device i port BasePort+i; default 0, any free port.
	BasePort int `yaml:"base_port"`
	// Username and Password, when Username is set, are required in the
	// "username" and "password" metadata of every Subscribe.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// QueueTicks bounds each subscriber's queue; default DefaultQueueTicks.
	QueueTicks int `yaml:"queue_ticks"`
	// WholeDevice sends one notification per step with every leaf of the
	// device (full paths, no prefix), as some devices batch; default one
	// notification per interface or component, with the list entry as
	// prefix.
	WholeDevice bool `yaml:"whole_device"`
	// Unsupported lists path prefixes (e.g. "/bfd") the devices refuse
	// with NotFound, as a device without that model does; default none.
	Unsupported []string `yaml:"unsupported"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	if c.QueueTicks == 0 {
		c.QueueTicks = DefaultQueueTicks
	}
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	switch {
	case c.BasePort < 0 || c.BasePort > 65535:
		return fmt.Errorf("base_port: %d is not a port (0 to 65535)", c.BasePort)
	case c.QueueTicks < 1:
		return fmt.Errorf("queue_ticks: %d must be at least 1", c.QueueTicks)
	}
	return nil
}

// Option sets a collaborator of an Agent.
type Option func(*options)

type options struct {
	tls *tls.Config
	log *slog.Logger
}

// WithTLS serves gNMI over TLS with c (set ClientAuth for mutual TLS);
// keep crypto/tls defaults for versions and groups. Default plaintext.
func WithTLS(c *tls.Config) Option {
	return func(o *options) { o.tls = c }
}

// WithLogger sets the logger of connection events; default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}
