package collectors

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/share"
	"github.com/telekernel/telekernel/collectors/snmp"
	"github.com/telekernel/telekernel/internal/httpserve"
	"github.com/telekernel/telekernel/internal/yamlfile"
	"github.com/telekernel/telekernel/kafka"
)

// Defaults of Config.
const (
	DefaultHTTP             = "127.0.0.1:9465"
	DefaultMaxBufferedBytes = 64 << 20
	DefaultReload           = 10 * time.Second
	// maxBatchBytes is the largest max_batch_bytes: one record must fit
	// the producer's batch limit, raised to match by Run.
	maxBatchBytes = 64 << 20
)

// Config is the YAML file of `telekernel collect gnmi|snmp -c FILE`.
type Config struct {
	Kafka kafka.Config `yaml:"kafka"`
	// Topic receives the samples; default tk.samples.
	Topic string `yaml:"topic"`
	// Partitions of the topic when the collector creates it; default 6.
	Partitions int32 `yaml:"partitions"`
	// MaxBufferedBytes bounds the records waiting for Kafka: when a broker
	// is slow or down, collection waits instead of growing memory.
	// Default DefaultMaxBufferedBytes.
	MaxBufferedBytes int `yaml:"max_buffered_bytes"`
	// MaxBatchBytes bounds the encoded size of one Kafka record: batches
	// are cut while a notification is decoded, so a device's notification
	// of any size is published in records the topic accepts. Default 0:
	// learned at start from the topic's max.message.bytes (at most about
	// 1 MB, less 16 KiB of framing), or publish.DefaultMaxBatchBytes
	// (900 KiB) when the broker does not say.
	MaxBatchBytes int `yaml:"max_batch_bytes"`
	// Reload is how often the file is checked for a changed target list,
	// which is applied without a restart; default DefaultReload, negative
	// disables. Other changes need a restart and are logged as such.
	Reload time.Duration `yaml:"reload"`
	// HTTP serves /metrics, /healthz and /readyz; Listen defaults to
	// DefaultHTTP, "off" disables.
	HTTP httpserve.Config `yaml:"http"`
	Log  struct {
		Level  string `yaml:"level"`  // debug, info (default), warn, error
		Format string `yaml:"format"` // text, json, auto (default)
	} `yaml:"log"`
	// Group shares the targets with the other processes started on the
	// same config (see collectors/share); off by default.
	Group share.Config `yaml:"group"`
	GNMI  gnmi.Config  `yaml:"gnmi"`
	SNMP  snmp.Config  `yaml:"snmp"`
}

func (c *Config) applyDefaults() {
	if c.Topic == "" {
		c.Topic = kafka.DefaultSamplesTopic
	}
	if c.Partitions == 0 {
		c.Partitions = kafka.DefaultPartitions
	}
	if c.MaxBufferedBytes == 0 {
		c.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if c.Reload == 0 {
		c.Reload = DefaultReload
	}
	if c.HTTP.Listen == "" {
		c.HTTP.Listen = DefaultHTTP
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "auto"
	}
	c.Group = c.Group.WithDefaults()
	c.GNMI = c.GNMI.WithDefaults()
	c.SNMP = c.SNMP.WithDefaults()
}

// Validate reports the first bad field as "path.to.field: problem".
func (c *Config) Validate() error {
	if err := c.Kafka.Validate(); err != nil {
		return fmt.Errorf("kafka.%w", err)
	}
	if err := c.Kafka.ValidateFiles(); err != nil {
		return fmt.Errorf("kafka.%w", err)
	}
	if err := c.HTTP.Validate(); err != nil {
		return fmt.Errorf("http.%w", err)
	}
	if err := kafka.CheckTopicName(c.Topic); err != nil {
		return fmt.Errorf("topic: %w", err)
	}
	if len(c.Kafka.Brokers) == 0 {
		return errors.New("kafka.brokers: at least one broker is required")
	}
	if c.Partitions < 1 || c.MaxBufferedBytes < 1<<20 {
		return errors.New("partitions: must be positive, and max_buffered_bytes at least 1 MiB")
	}
	if c.MaxBatchBytes != 0 && (c.MaxBatchBytes < publish.MinMaxBatchBytes || c.MaxBatchBytes > maxBatchBytes) {
		return fmt.Errorf("max_batch_bytes: %d is not between %d and %d (0 learns it from the topic)",
			c.MaxBatchBytes, publish.MinMaxBatchBytes, maxBatchBytes)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json", "auto":
	default:
		return fmt.Errorf("log.format: %q is not text, json or auto", c.Log.Format)
	}
	if err := c.Group.Validate(); err != nil {
		return fmt.Errorf("group.%w", err)
	}
	if err := c.GNMI.Validate(); err != nil {
		return fmt.Errorf("gnmi.%w", err)
	}
	if err := c.SNMP.Validate(); err != nil {
		return fmt.Errorf("snmp.%w", err)
	}
	return nil
}

// Warnings returns one line per risky but valid setting, e.g. a gNMI
// target whose credentials go over plaintext: "gnmi.targets[0] (r1):
// ...".
func (c *Config) Warnings() []string {
	var out []string
	for i, t := range c.GNMI.Targets {
		if t.PlaintextCredentials() {
			out = append(out, fmt.Sprintf("gnmi.targets[%d] (%s): %s", i, t.Name, plaintextWarning))
		}
	}
	return out
}

const plaintextWarning = "username and password are sent in plaintext gRPC metadata; set tls.enabled: true"

// warnPlaintext returns a function that logs one warning per gNMI target
// (by name) whose credentials go over plaintext, the first time it sees the
// target in a config.
func warnPlaintext(log *slog.Logger) func(*Config) {
	warned := map[string]bool{}
	return func(c *Config) {
		for _, t := range c.GNMI.Targets {
			if t.PlaintextCredentials() && !warned[t.Name] {
				warned[t.Name] = true
				log.Warn("gNMI credentials over plaintext: "+plaintextWarning, "target", t.String())
			}
		}
	}
}

// ParseConfig decodes YAML (named name in errors) strictly: unknown fields
// are errors, and errors name the file, line and field.
func ParseConfig(name string, data []byte) (*Config, error) {
	var c Config
	if err := yamlfile.Decode(name, data, &c, func() error { c.applyDefaults(); return c.Validate() }); err != nil {
		return nil, err
	}
	return &c, nil
}

// LoadConfig reads and parses the file at path.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read config: %w", err)
	}
	return ParseConfig(path, data)
}
