package config

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/telekernel/telekernel/collectors"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/internal/httpserve"
	"github.com/telekernel/telekernel/internal/yamlfile"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/sinks/alertmanager"
	"github.com/telekernel/telekernel/sinks/alertstate"
	"github.com/telekernel/telekernel/sinks/clickhouse"
	"github.com/telekernel/telekernel/sinks/parquet"
	"github.com/telekernel/telekernel/stages/correlate"
	"github.com/telekernel/telekernel/stages/detect"
	"github.com/telekernel/telekernel/stages/inventory"
	"github.com/telekernel/telekernel/stages/maintain"
	"github.com/telekernel/telekernel/stages/power"
	"gopkg.in/yaml.v3"
)

// Defaults.
const (
	DefaultDataDir  = "./telekernel-data"
	DefaultHTTP     = "127.0.0.1:9464"
	DefaultSimSpeed = 600
	DefaultBackfill = 24 * time.Hour
	// DefaultPowerTopic and DefaultMaintenanceTopic receive the power and
	// maintain stages' results.
	DefaultPowerTopic       = "tk.power"
	DefaultMaintenanceTopic = "tk.maintenance"
)

// Config is the whole configuration.
type Config struct {
	// Stages lists the stages this process runs: detect, parquet,
	// clickhouse, alertstate, alertmanager, power, maintain, inventory,
	// correlate. Default all; parquet runs when parquet.enabled, clickhouse
	// when clickhouse.addr is set, alertmanager when alertmanager.url is
	// set, correlate unless correlate.enabled is false, inventory unless
	// inventory.enabled is false.
	Stages []string      `yaml:"stages"`
	Kafka  kafka.Config  `yaml:"kafka"`
	Topics Topics        `yaml:"topics"`
	Sim    Sim           `yaml:"sim"`
	Detect detect.Config `yaml:"detect"`
	// Power configures the power stage (device power models, savings).
	Power power.Config `yaml:"power"`
	// Maintain configures the maintain stage (predicted failures).
	Maintain   maintain.Config `yaml:"maintain"`
	Parquet    Parquet         `yaml:"parquet"`
	ClickHouse ClickHouse      `yaml:"clickhouse"`
	// Alertmanager receives firing and resolved detections when its url is
	// set.
	Alertmanager alertmanager.Config `yaml:"alertmanager"`
	HTTP         HTTP                `yaml:"http"`
	Log          Log                 `yaml:"log"`
	// Collect configures `telekernel collect gnmi|snmp`: the targets and
	// the collector's own endpoint. The collectors publish to
	// topics.samples through kafka and log per log.
	Collect collectors.Section `yaml:"collect"`

	// legacyCollector holds the top-level fields of a collector-only
	// file of earlier releases; Parse moves them into Collect.
	legacyCollector `yaml:",inline"`
	// legacy is set when the file was a collector-only file.
	legacy bool
	// Correlate configures the correlate stage (incidents from
	// detections); on unless correlate.enabled is false.
	Correlate correlate.Config `yaml:"correlate"`
	// Inventory configures the inventory stage (LLDP neighbours and
	// correlate.inventory published to the inventory topic) and whether
	// the correlate stage follows that topic; on unless
	// inventory.enabled is false.
	Inventory inventory.Config `yaml:"inventory"`
}

// Topics names the Kafka topics.
type Topics struct {
	Samples     string `yaml:"samples"`      // default tk.samples
	Detections  string `yaml:"detections"`   // default tk.detections
	DeadLetters string `yaml:"dead_letters"` // default tk.deadletters
	// AlertState is the compacted topic holding every alert's current
	// state, keyed by fingerprint; default tk.alerts.
	AlertState string `yaml:"alert_state"`
	// Power receives the power stage's rows (Arrow); default tk.power.
	Power string `yaml:"power"`
	// Maintenance receives maintenance events (JSON); default
	// tk.maintenance.
	Maintenance string `yaml:"maintenance"`
	Partitions  int32  `yaml:"partitions"` // for topics telekernel creates; default 6
	// GroupPrefix prefixes the consumer group of every stage, e.g.
	// "telekernel-detect"; default "telekernel". Two deployments on one
	// cluster need different prefixes (and topics).
	GroupPrefix string `yaml:"group_prefix"`
}

// Speed is simulated seconds per wall second: a number, or .inf or max
// for as fast as the pipeline takes.
type Speed float64

// UnmarshalYAML reads max as .inf, as the --speed flag does; anything else
// as a number.
func (s *Speed) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Value == "max" {
		*s = Speed(math.Inf(1))
		return nil
	}
	return n.Decode((*float64)(s))
}

// Sim configures the simulated fleet of the embedded default.
type Sim struct {
	sim.Config `yaml:",inline"`
	// Showcase is set on the embedded default only (a file cannot set
	// it): Fleet then picks the showcase scenario.
	Showcase bool `yaml:"-"`
	// Enabled runs the simulator; default true in `telekernel run`.
	Enabled *bool `yaml:"enabled"`
	// Speed is simulated seconds per wall second; .inf (or max, as the
	// --speed flag takes it) runs as fast as the pipeline takes. Simulated
	// time never runs ahead of the wall clock: the fleet replays Backfill
	// of history at Speed, then goes on live.
	Speed Speed `yaml:"speed"`
	// Backfill is how far in the past the simulation starts; default 24h
	// when the file does not set it; 0s starts at the clock (no replay).
	Backfill time.Duration `yaml:"backfill"`
	// Span stops the simulator after this much simulated time; 0 runs
	// until the process stops.
	Span time.Duration `yaml:"span"`
	// LabelsFile receives the ground truth of injected faults as JSON lines;
	// default DATA_DIR/labels.jsonl.
	LabelsFile string `yaml:"labels_file"`
}

// Parquet configures the Parquet stage: the sink's own parquet.Config
// (root, table, timestamp_unit, row_group_rows, compression; its defaults
// apply when the writer is built) with Root defaulting to the data folder,
// and how the runner batches rows for it.
type Parquet struct {
	parquet.Config `yaml:",inline"`
	Enabled        *bool         `yaml:"enabled"`        // default true
	FlushInterval  time.Duration `yaml:"flush_interval"` // default 10s
	FlushRows      int           `yaml:"flush_rows"`     // default 500000
}

// ClickHouse configures the ClickHouse stages; they run when Addr is set.
// The connection (address, database, password, TLS, layout, retention) is
// the sink's own clickhouse.Config, whose defaults apply when the sink is
// built; FlushInterval and FlushRows are how the runner batches rows for
// it.
type ClickHouse struct {
	clickhouse.Config `yaml:",inline"`
	FlushInterval     time.Duration `yaml:"flush_interval"` // default 1s
	FlushRows         int           `yaml:"flush_rows"`     // default 100000
}

// HTTP configures the metrics and health endpoint: Listen defaults to
// DefaultHTTP ("off" disables it), TLS and basic authentication are off
// unless set.
type HTTP = httpserve.Config

// Log configures logging: level debug, info (default), warn or error;
// format text, json, or auto (default: text on a terminal).
type Log = collectors.Log

// Default returns the configuration of the embedded default.
func Default() Config {
	c := unset()
	c.showcase()
	c.applyDefaults()
	return c
}

// unset is the config before a file is read: the zero value, but with the
// simulator's power model and transceivers on (a file may turn them off),
// so the power and maintain stages have something to model by default,
// and its backfill at the default (a file may set 0s: no replay).
func unset() Config {
	var c Config
	c.Sim.Power, c.Sim.Transceivers = true, true
	c.Sim.Backfill = DefaultBackfill
	return c
}

// Runs reports whether the process runs the stage name (a name of the
// stage registry, app.Stages): every stage when stages: is not set.
func (c *Config) Runs(name string) bool { return c.Stages == nil || slices.Contains(c.Stages, name) }

func (c *Config) applyDefaults() {
	t := &c.Topics
	if t.Samples == "" {
		t.Samples = kafka.DefaultSamplesTopic
	}
	if t.Detections == "" {
		t.Detections = kafka.DefaultDetectionsTopic
	}
	if t.DeadLetters == "" {
		t.DeadLetters = kafka.DefaultDeadLetterTopic
	}
	if t.AlertState == "" {
		t.AlertState = alertstate.DefaultTopic
	}
	if t.Power == "" {
		t.Power = DefaultPowerTopic
	}
	if t.Maintenance == "" {
		t.Maintenance = DefaultMaintenanceTopic
	}
	if t.GroupPrefix == "" {
		t.GroupPrefix = "telekernel"
	}
	if t.Partitions == 0 {
		t.Partitions = kafka.DefaultPartitions
	}
	s := &c.Sim
	if s.Enabled == nil {
		s.Enabled = ptr(true)
	}
	if s.Speed == 0 {
		s.Speed = DefaultSimSpeed
	}
	// Faults left unset stay nil: the simulator picks its default fault for
	// the fleet size it ends up with (flags may change it).
	unset := s.Faults == nil
	s.Config = s.Config.WithDefaults()
	if unset {
		s.Faults = nil
	}
	p := &c.Parquet
	if p.Enabled == nil {
		p.Enabled = ptr(true)
	}
	if p.Root == "" {
		p.Root = DefaultDataDir
	}
	if p.FlushInterval == 0 {
		p.FlushInterval = 10 * time.Second
	}
	if p.FlushRows == 0 {
		p.FlushRows = 500_000
	}
	if s.LabelsFile == "" {
		s.LabelsFile = strings.TrimSuffix(p.Root, "/") + "/labels.jsonl"
	}
	ch := &c.ClickHouse
	if ch.FlushInterval == 0 {
		ch.FlushInterval = time.Second
	}
	if ch.FlushRows == 0 {
		ch.FlushRows = 100_000
	}
	if c.HTTP.Listen == "" {
		c.HTTP.Listen = DefaultHTTP
	}
	c.Log = c.Log.WithDefaults()
	c.Collect = c.Collect.WithDefaults()
	c.Detect = c.Detect.WithDefaults()
	c.Power = c.Power.WithDefaults()
	c.Maintain = c.Maintain.WithDefaults()
	c.Correlate = c.Correlate.WithDefaults()
	c.Inventory = c.Inventory.WithDefaults()
}

func ptr[T any](v T) *T { return &v }

// Validate reports the first bad field as "path.to.field: problem": a bad
// value, and anything a start would refuse (a secret that does not load,
// missing or mismatched TLS files, an address that cannot be listened on, a
// Parquet root that cannot be written).
func (c *Config) Validate() error {
	check := func(prefix string, err error) error {
		if err != nil {
			return fmt.Errorf("%s.%w", prefix, err)
		}
		return nil
	}
	if err := check("kafka", c.Kafka.Validate()); err != nil {
		return err
	}
	if err := c.validateTopics(); err != nil {
		return err
	}
	if c.Topics.Partitions < 1 {
		return fmt.Errorf("topics.partitions: %d must be at least 1", c.Topics.Partitions)
	}
	if *c.Sim.Enabled {
		sc := c.Sim.Fleet()
		if sc.Start.IsZero() {
			sc.Start = time.Unix(0, 0) // picked at run time from backfill
		}
		if err := check("sim", sc.Validate()); err != nil {
			return err
		}
	}
	if c.Sim.Speed < 0 || math.IsNaN(float64(c.Sim.Speed)) {
		return fmt.Errorf("sim.speed: %v must be positive (or .inf or max)", c.Sim.Speed)
	}
	if c.Sim.Backfill < 0 {
		return fmt.Errorf("sim.backfill: %v must not be negative", c.Sim.Backfill)
	}
	if c.Sim.Span < 0 {
		return fmt.Errorf("sim.span: %v must not be negative (0 runs until stopped)", c.Sim.Span)
	}
	if err := check("detect", c.Detect.Validate()); err != nil {
		return err
	}
	if err := check("power", c.Power.Validate()); err != nil {
		return err
	}
	if err := check("maintain", c.Maintain.Validate()); err != nil {
		return err
	}
	if err := check("parquet", c.Parquet.Config.Validate()); err != nil {
		return err
	}
	if err := checkFlush("parquet", c.Parquet.FlushInterval, c.Parquet.FlushRows); err != nil {
		return err
	}
	if err := check("clickhouse", c.ClickHouse.Validate()); err != nil {
		return err
	}
	if err := checkFlush("clickhouse", c.ClickHouse.FlushInterval, c.ClickHouse.FlushRows); err != nil {
		return err
	}
	if c.Alertmanager != (alertmanager.Config{}) {
		if err := check("alertmanager", c.Alertmanager.Validate()); err != nil {
			return err
		}
	}
	if err := check("log", c.Log.Validate()); err != nil {
		return err
	}
	if err := c.validateCollect(); err != nil {
		return err
	}
	if err := check("correlate", c.Correlate.Validate()); err != nil {
		return err
	}
	if err := check("inventory", c.Inventory.Validate()); err != nil {
		return err
	}
	return c.validateResources()
}

// checkFlush rejects negative flush settings of section (0 means the
// default, applied before).
func checkFlush(section string, every time.Duration, rows int) error {
	if every < 0 {
		return fmt.Errorf("%s.flush_interval: %v must be positive", section, every)
	}
	if rows < 0 {
		return fmt.Errorf("%s.flush_rows: %d must be positive", section, rows)
	}
	return nil
}

// Parse decodes YAML from data (named name in errors), applies defaults and
// validates. Errors name the file, the line and the field at fault.
func Parse(name string, data []byte) (*Config, error) { return ParseAs(name, data, nil) }

// ParseAs parses as Parse does, with adjust (when not nil) applied to the
// defaulted config before it is validated: the command that runs one
// stage of a pipeline's file narrows it to that stage first, so the
// resources only other stages use (another stage's Parquet folder) are
// not checked on its host.
func ParseAs(name string, data []byte, adjust func(*Config)) (*Config, error) {
	c := unset()
	if err := yamlfile.Decode(name, data, &c, func() error {
		if err := c.migrateCollector(); err != nil {
			return err
		}
		c.applyDefaults()
		if adjust != nil {
			adjust(&c)
		}
		return c.Validate()
	}); err != nil {
		return nil, err
	}
	return &c, nil
}

// Load reads and parses the file at path.
func Load(path string) (*Config, error) {
	return yamlfile.ReadFile(path, Parse)
}
