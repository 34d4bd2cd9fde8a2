package agent

import (
	"crypto/tls"
	"log/slog"

	"github.com/telekernel/telekernel/internal/cfgcheck"
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
	// NoDeletes sends no gNMI delete for a vanished LLDP neighbour, as many
	// devices streaming SAMPLE subscriptions do not: the neighbour's
	// leaves simply stop coming. Default false: one delete of its list
	// entry (lldp.go).
	NoDeletes bool `yaml:"no_deletes"`
	// Unsupported lists path prefixes (e.g. "/bfd") the devices refuse
	// with NotFound, as a device without that model does; default none.
	Unsupported []string `yaml:"unsupported"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Host, "127.0.0.1")
	cfgcheck.Default(&c.QueueTicks, DefaultQueueTicks)
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	return cfgcheck.First(
		cfgcheck.Check(c.BasePort < 0 || c.BasePort > 65535, "base_port: %d is not a port (0 to 65535)", c.BasePort),
		cfgcheck.AtLeast("queue_ticks", c.QueueTicks, 1),
	)
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
