package collectors

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/share"
	"github.com/telekernel/telekernel/collectors/snmp"
	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/internal/httpserve"
	"github.com/telekernel/telekernel/internal/yamlfile"
	"github.com/telekernel/telekernel/kafka"
)

// Defaults of Config.
const (
	DefaultHTTP             = "127.0.0.1:9465"
	DefaultMaxBufferedBytes = 2 << 20
	DefaultReload           = 10 * time.Second
	// maxBatchBytes is the largest max_batch_bytes: one record must fit
	// the producer's batch limit, raised to match by Run.
	maxBatchBytes = 64 << 20
)

// Config is what a collector runs on: the collect section of the config
// file (Section) with the Kafka connection, the samples topic and the log
// settings of the same file. The config package builds it from a file
// (config.Config.Collector); ParseConfig reads the collector fields alone
// as one flat document, the shape of the collector-only files of earlier
// releases (still read, with a deprecation notice, by config.Load).
type Config struct {
	Kafka kafka.Config `yaml:"kafka"`
	// Topic receives the samples; default tk.samples (topics.samples of
	// the config file).
	Topic string `yaml:"topic"`
	// Partitions of the topic when the collector creates it; default 6
	// (topics.partitions of the config file).
	Partitions int32 `yaml:"partitions"`
	Log        Log   `yaml:"log"`
	Section    `yaml:",inline"`
	// Parse parses the file again when it changes (WatchConfig); nil means
	// ParseConfig. The config package sets it, so a reload reads the file
	// the way it was read at start.
	Parse func(name string, data []byte) (*Config, error) `yaml:"-"`
}

// Log configures logging (the log section of the config file, which
// every command reads).
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn, error
	Format string `yaml:"format"` // text, json, or auto (default: text on a terminal)
}

// WithDefaults returns l with every zero field set to its default.
func (l Log) WithDefaults() Log {
	cfgcheck.Default(&l.Level, "info")
	cfgcheck.Default(&l.Format, "auto")
	return l
}

// Validate reports the first bad field as "field: problem".
func (l Log) Validate() error {
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("level: %q is not debug, info, warn or error", l.Level)
	}
	switch l.Format {
	case "text", "json", "auto":
	default:
		return fmt.Errorf("format: %q is not text, json or auto", l.Format)
	}
	return nil
}

// Section is the collect section of the config file: the targets and how
// they are collected and published.
type Section struct {
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
	// HTTP serves /metrics, /healthz and /readyz of the collector; Listen
	// defaults to DefaultHTTP (not the pipeline's port, so a collector and
	// `telekernel run` can share a host), "off" disables.
	HTTP httpserve.Config `yaml:"http"`
	// Group shares the targets with the other processes started on the
	// same config (see collectors/share); off by default.
	Group share.Config `yaml:"group"`
	GNMI  gnmi.Config  `yaml:"gnmi"`
	SNMP  snmp.Config  `yaml:"snmp"`
}

// IsZero reports whether nothing of the section is set.
func (s Section) IsZero() bool {
	return s.MaxBufferedBytes == 0 && s.MaxBatchBytes == 0 && s.Reload == 0 && s.HTTP == (httpserve.Config{}) &&
		s.Group == (share.Config{}) && len(s.GNMI.Targets) == 0 && len(s.SNMP.Targets) == 0 &&
		reflect.DeepEqual(s.GNMI, gnmi.Config{}) && reflect.DeepEqual(s.SNMP, snmp.Config{})
}

// Deprecated returns one "field: how to migrate" line per deprecated
// spelling s was read with: tls.enable anywhere under gnmi.
func (s Section) Deprecated() []string {
	for _, t := range append([]gnmi.Target{s.GNMI.Defaults}, s.GNMI.Targets...) {
		if d := t.TLS.Deprecated(); d != nil {
			return []string{"gnmi: tls." + d[0]}
		}
	}
	return nil
}

// WithDefaults returns s with every zero field set to its default.
func (s Section) WithDefaults() Section {
	cfgcheck.Default(&s.MaxBufferedBytes, DefaultMaxBufferedBytes)
	cfgcheck.Default(&s.Reload, DefaultReload)
	cfgcheck.Default(&s.HTTP.Listen, DefaultHTTP)
	s.Group = s.Group.WithDefaults()
	s.GNMI = s.GNMI.WithDefaults()
	s.SNMP = s.SNMP.WithDefaults()
	return s
}

// Validate reports the first bad field of s as "path.to.field: problem",
// loading what a start would (TLS files of the endpoint).
func (s Section) Validate() error {
	if err := s.HTTP.Validate(); err != nil {
		return fmt.Errorf("http.%w", err)
	}
	if s.MaxBufferedBytes < 1<<20 {
		return fmt.Errorf("max_buffered_bytes: %d is below 1 MiB", s.MaxBufferedBytes)
	}
	if s.MaxBatchBytes != 0 && (s.MaxBatchBytes < publish.MinMaxBatchBytes || s.MaxBatchBytes > maxBatchBytes) {
		return fmt.Errorf("max_batch_bytes: %d is not between %d and %d (0 learns it from the topic)",
			s.MaxBatchBytes, publish.MinMaxBatchBytes, maxBatchBytes)
	}
	if s.MaxBatchBytes > s.MaxBufferedBytes {
		return fmt.Errorf("max_batch_bytes: %d is above max_buffered_bytes (%d): a record that large could never be buffered and would be lost; raise max_buffered_bytes with it",
			s.MaxBatchBytes, s.MaxBufferedBytes)
	}
	return cfgcheck.First(
		cfgcheck.Section("group", s.Group.Validate()),
		cfgcheck.Section("gnmi", s.GNMI.Validate()),
		cfgcheck.Section("snmp", s.SNMP.Validate()),
	)
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Topic, kafka.DefaultSamplesTopic)
	cfgcheck.Default(&c.Partitions, kafka.DefaultPartitions)
	c.Log = c.Log.WithDefaults()
	c.Section = c.Section.WithDefaults()
	return c
}

// Validate reports the first bad field as "path.to.field: problem".
func (c *Config) Validate() error {
	if err := c.Kafka.Validate(); err != nil {
		return fmt.Errorf("kafka.%w", err)
	}
	if err := c.Kafka.ValidateFiles(); err != nil {
		return fmt.Errorf("kafka.%w", err)
	}
	if len(c.Kafka.Brokers) == 0 {
		return errors.New("kafka.brokers: at least one broker is required")
	}
	if err := kafka.CheckTopicName(c.Topic); err != nil {
		return fmt.Errorf("topic: %w", err)
	}
	if c.Partitions < 1 {
		return fmt.Errorf("partitions: %d must be at least 1", c.Partitions)
	}
	if err := c.Log.Validate(); err != nil {
		return fmt.Errorf("log.%w", err)
	}
	return c.Section.Validate()
}

// reparse parses the changed file at name the way the running config was
// read (Parse, or ParseConfig).
func (c *Config) reparse(name string, data []byte) (*Config, error) {
	if c.Parse != nil {
		return c.Parse(name, data)
	}
	return ParseConfig(name, data)
}

// Warnings returns one line per risky but valid setting, e.g. a gNMI
// target whose credentials go over plaintext: "gnmi.targets[0] (r1):
// ...".
func (s *Section) Warnings() []string {
	var out []string
	for i, t := range s.GNMI.Targets {
		if t.PlaintextCredentials() {
			out = append(out, fmt.Sprintf("gnmi.targets[%d] (%s): %s", i, t.Name, plaintextWarning))
		}
		if w := t.TLS.Warning(); w != "" {
			out = append(out, fmt.Sprintf("gnmi.targets[%d] (%s): tls.%s", i, t.Name, w))
		}
	}
	for i, t := range s.SNMP.Targets {
		if w := t.Weakness(); w != "" {
			out = append(out, fmt.Sprintf("snmp.targets[%d] (%s): %s", i, t.Name, w))
		}
	}
	return out
}

const plaintextWarning = "username and password are sent in plaintext gRPC metadata; set tls.enabled: true"

// warnRisky returns a function that logs one warning per gNMI target (by
// name) whose credentials go over plaintext or whose tls does not verify
// the device's certificate, and per SNMPv3 target whose
// security is weak (snmp.Target.Weakness), the first time it sees the
// target in a config.
func warnRisky(log *slog.Logger) func(*Config) {
	warned := map[string]bool{}
	return func(c *Config) {
		for _, t := range c.GNMI.Targets {
			if t.PlaintextCredentials() && !warned[t.Name] {
				warned[t.Name] = true
				log.Warn("gNMI credentials over plaintext: "+plaintextWarning, "target", t.String())
			}
			if w := t.TLS.Warning(); w != "" && !warned["tls:"+t.Name] {
				warned["tls:"+t.Name] = true
				log.Warn("gNMI TLS without verification: tls."+w, "target", t.String())
			}
		}
		for _, t := range c.SNMP.Targets {
			if w := t.Weakness(); w != "" && !warned[t.Name] {
				warned[t.Name] = true
				log.Warn("weak SNMPv3 security: "+w, "target", t.Name, "address", t.Address)
			}
		}
	}
}

// ParseConfig decodes the collector fields as one flat YAML document (named
// name in errors) strictly: unknown fields are errors, and errors name the
// file, line and field. Commands read config files with config.Load, which
// reads this shape too (deprecated) besides the collect section.
func ParseConfig(name string, data []byte) (*Config, error) {
	var c Config
	if err := yamlfile.Decode(name, data, &c, func() error { c = c.WithDefaults(); return c.Validate() }); err != nil {
		return nil, err
	}
	return &c, nil
}

// LoadConfig reads and parses the file at path.
func LoadConfig(path string) (*Config, error) {
	return yamlfile.ReadFile(path, ParseConfig)
}
