package config

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/telekernel/telekernel/collectors"
	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/share"
	"github.com/telekernel/telekernel/collectors/snmp"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// legacyCollector holds the top-level fields of the collector-only files
// of earlier releases (`telekernel collect -c FILE` read a file of their
// own). They still load: Parse moves them into the collect section (and
// topic, partitions to topics) and Deprecated says how to migrate.
type legacyCollector struct {
	Topic            string        `yaml:"topic"`
	Partitions       int32         `yaml:"partitions"`
	MaxBufferedBytes int           `yaml:"max_buffered_bytes"`
	MaxBatchBytes    int           `yaml:"max_batch_bytes"`
	Reload           time.Duration `yaml:"reload"`
	Group            share.Config  `yaml:"group"`
	GNMI             gnmi.Config   `yaml:"gnmi"`
	SNMP             snmp.Config   `yaml:"snmp"`
}

// legacyNotice is the one line logged for a collector-only file.
const legacyNotice = "a collector-only file is deprecated: move gnmi, snmp, group, reload, max_buffered_bytes, " +
	"max_batch_bytes and http under collect:, topic to topics.samples and partitions to topics.partitions " +
	"(see deploy/examples/collect-gnmi.yaml)"

// migrateCollector moves the fields of a collector-only file into the
// collect section. In such a file http is the collector's endpoint, so it
// moves too. A file that mixes them with a collect section is an error.
func (c *Config) migrateCollector() error {
	l := c.legacyCollector
	if reflect.DeepEqual(l, legacyCollector{}) {
		return nil
	}
	if !c.Collect.IsZero() {
		return errors.New("collect: set beside top-level collector fields (gnmi, snmp, topic, …); move those into the collect section")
	}
	c.legacy = true
	c.Collect = collectors.Section{
		MaxBufferedBytes: l.MaxBufferedBytes, MaxBatchBytes: l.MaxBatchBytes, Reload: l.Reload,
		HTTP: c.HTTP, Group: l.Group, GNMI: l.GNMI, SNMP: l.SNMP,
	}
	c.HTTP = HTTP{}
	if l.Topic != "" {
		c.Topics.Samples = l.Topic
	}
	if l.Partitions != 0 {
		c.Topics.Partitions = l.Partitions
	}
	c.legacyCollector = legacyCollector{}
	return nil
}

// validateCollect checks the collect section. Errors name the fields as
// the file spells them: collect.gnmi… in a file with a collect section,
// gnmi… in a collector-only file.
func (c *Config) validateCollect() error {
	err := c.Collect.Validate()
	if err == nil && c.collects() && len(c.Kafka.Brokers) == 0 {
		return errors.New("kafka.brokers: at least one broker is required to collect (the collectors publish to Kafka)")
	}
	if err == nil || c.legacy {
		return err
	}
	return fmt.Errorf("collect.%w", err)
}

// collects reports whether the file configures collectors: targets, or a
// group to share them in.
func (c *Config) collects() bool {
	s := c.Collect
	return len(s.GNMI.Targets) > 0 || len(s.SNMP.Targets) > 0 || s.Group.Enabled || c.legacy
}

// Collector returns the configuration `telekernel collect` runs on: the
// collect section with the file's kafka, topics.samples, topics.partitions
// and log. A reload parses the file again with Parse.
func (c *Config) Collector() (*collectors.Config, error) {
	if len(c.Kafka.Brokers) == 0 {
		return nil, errors.New("kafka.brokers: at least one broker is required to collect (the collectors publish to Kafka)")
	}
	return &collectors.Config{
		Kafka: c.Kafka, Topic: c.Topics.Samples, Partitions: c.Topics.Partitions, Log: c.Log, Section: c.Collect,
		Parse: func(name string, data []byte) (*collectors.Config, error) {
			n, err := Parse(name, data)
			if err != nil {
				return nil, err
			}
			return n.Collector()
		},
	}, nil
}

// Warnings returns one line per risky but valid setting, e.g. a gNMI
// target whose credentials go over plaintext, naming the field as the file
// spells it.
func (c *Config) Warnings() []string {
	out := c.EdgeWarnings()
	for _, w := range c.Collect.Warnings() {
		if !c.legacy {
			w = "collect." + w
		}
		out = append(out, w)
	}
	return out
}

// EdgeWarnings is the part of Warnings about the pipeline's own edges
// (Kafka, ClickHouse, Alertmanager), which every command logs at start;
// the collectors log their targets' own warnings.
func (c *Config) EdgeWarnings() []string {
	var out []string
	for _, t := range []struct {
		section string
		on      bool
		tls     tlsfiles.Config
	}{{"kafka", true, c.Kafka.TLS}, {"clickhouse", len(c.ClickHouse.Addr) > 0, c.ClickHouse.TLS}, {"alertmanager", c.Alertmanager.URL != "", c.Alertmanager.TLS}} {
		if w := t.tls.Warning(); t.on && w != "" {
			out = append(out, t.section+".tls."+w)
		}
	}
	if c.Kafka.PlaintextPassword() {
		out = append(out, "kafka.sasl.mechanism: PLAIN without tls.enabled sends the password in plaintext; set kafka.tls.enabled: true, or use SCRAM-SHA-512")
	}
	return out
}

// Deprecated returns one "field: how to migrate" line per deprecated
// spelling the file used, for the commands to log as warnings: exactly one
// for a collector-only file.
func (c *Config) Deprecated() []string {
	var out []string
	if c.legacy {
		out = append(out, legacyNotice)
	}
	for _, d := range c.Collect.Deprecated() {
		if !c.legacy {
			d = "collect." + d
		}
		out = append(out, d)
	}
	for _, d := range c.ClickHouse.Deprecated() {
		out = append(out, "clickhouse."+d)
	}
	for _, d := range c.Detect.Deprecated() {
		out = append(out, "detect."+d)
	}
	for _, d := range c.Kafka.TLS.Deprecated() {
		out = append(out, "kafka.tls."+d)
	}
	for _, d := range c.Alertmanager.TLS.Deprecated() {
		out = append(out, "alertmanager.tls."+d)
	}
	return out
}
