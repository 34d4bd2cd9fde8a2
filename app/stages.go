package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/sinks/alertstate"
	"github.com/telekernel/telekernel/sinks/clickhouse"
	"github.com/telekernel/telekernel/sinks/parquet"
	"github.com/telekernel/telekernel/stages/detect"
	"github.com/telekernel/telekernel/stages/maintain"
	"github.com/telekernel/telekernel/stages/power"
)

// Stages is the stage registry: every stage a process can run, one row
// each, in the order they start. `run`, `stage NAME`, `check` and the
// summary all read it. Adding a stage is its package (under stages/ for a
// Kafka→Kafka stage, sinks/ for a sink) and one row here.
var Stages = []StageDef{
	{Name: "detect", Input: samplesTopic, Build: annotated(buildDetect)},
	{Name: "power", Input: samplesTopic, Build: annotated(buildPower)},
	{Name: "maintain", Input: samplesTopic, Build: buildMaintain},
	{Name: "inventory", Input: samplesTopic, Enabled: inventoryEnabled, Build: buildInventory},
	{Name: "parquet", Input: samplesTopic, Enabled: parquetEnabled, Build: buildParquet},
	{Name: "clickhouse-samples", Select: "clickhouse", Input: samplesTopic, Enabled: clickhouseEnabled, Build: buildClickHouseSamples},
	{Name: "clickhouse-detections", Select: "clickhouse", Phase: OnResults, Input: detectionsTopic, Enabled: clickhouseEnabled,
		Build: buildClickHouse(clickhouse.NewDetectionsStage)},
	{Name: "clickhouse-power", Select: "clickhouse", Phase: OnResults, Input: powerTopic, Enabled: clickhouseEnabled,
		Build: buildClickHouse(clickhouse.NewPowerStage)},
	{Name: "clickhouse-maintenance", Select: "clickhouse", Phase: OnResults, Input: maintenanceTopic, Enabled: clickhouseEnabled,
		Build: buildClickHouse(clickhouse.NewMaintenanceStage)},
	{Name: "alertstate", Phase: OnResults, Input: detectionsTopic, Build: buildAlertState},
	{Name: "alertmanager", Phase: OnIncidents, Input: alertmanagerInput, Enabled: alertmanagerEnabled, Build: buildAlertmanager},
	{Name: "correlate-route", Select: "correlate", Phase: OnResults, Input: detectionsTopic, Enabled: correlateEnabled, Build: buildCorrelateRoute},
	{Name: "correlate", Phase: OnDerived, Input: correlateInput, Enabled: correlateEnabled, Build: buildCorrelate},
	{Name: "clickhouse-incidents", Select: "clickhouse", Phase: OnIncidents, Input: incidentsTopic, Enabled: clickhouseEnabled, Build: buildClickHouseIncidents},
}

// Phase says when a stage drains at the end of a run that produced its
// input: the stages that read the samples first, then, once those are
// done, the stages that read what they produced.
type Phase int

const (
	// OnSamples stages read the samples topic; they drain first.
	OnSamples Phase = iota
	// OnResults stages read what OnSamples stages produce (detections,
	// power, maintenance); they drain once those have.
	OnResults
	// OnDerived stages read what OnResults stages produce (the correlate
	// stage reads the detections its route re-keyed); they drain last.
	OnDerived
	// OnIncidents stages read what OnDerived stages produce (the
	// incidents); they drain after them.
	OnIncidents
)

// phases are the phases in the order they drain.
var phases = []Phase{OnSamples, OnResults, OnDerived, OnIncidents}

// StageDef is one row of the stage registry.
type StageDef struct {
	// Name names the stage's runner, its consumer group (PREFIX-NAME), its
	// logs and metrics.
	Name string
	// Select is the name under which `stages:` and `telekernel stage`
	// choose the stage; default Name. The four ClickHouse tables are one
	// choice, clickhouse.
	Select string
	// Phase is when the stage drains; default OnSamples.
	Phase Phase
	// Input returns the topic the stage reads.
	Input func(*config.Config) string
	// Enabled returns nil when the configuration gives the stage what it
	// needs, else what is missing ("clickhouse.addr is empty"): `run`
	// leaves the stage out, `stage NAME` fails with it. nil: always
	// enabled.
	Enabled func(*config.Config) error
	// Build creates the stage.
	Build func(ctx context.Context, env *Env) (Built, error)
}

// Built is what a row's Build made: a Processor the runtime runs exactly
// once (a TransactRunner), or a Sink it runs at least once (a Runner).
type Built struct {
	Proc pipeline.Processor
	Sink pipeline.Sink
	// FlushRows and FlushInterval bound a Sink's batches (0: the
	// Runner's defaults).
	FlushRows     int
	FlushInterval time.Duration
	// Report adds the stage's own figures to the summary once it stopped,
	// given its runner's counters; nil: only the counters every stage has.
	Report func(*Summary, pipeline.Stats)
	// Progress returns the stage's part of the progress line; nil: "NAME
	// N rows".
	Progress func() string
	// Close releases what Build opened, once the stage stopped; nil:
	// nothing.
	Close func()
}

// Env is what a row's Build gets: the configuration and the clients the
// process shares.
type Env struct {
	Config *config.Config
	// Kafka is the connection, with the embedded broker's address filled
	// in when there is one.
	Kafka    kafka.Config
	Admin    *kgo.Client // for topics and offsets
	Out      *kgo.Client // a producer
	Metrics  *pipeline.Metrics
	Registry prometheus.Registerer
	Log      *slog.Logger

	ch      *clickhouse.Sink // shared by the clickhouse rows; opened by the first
	closers []func()         // run in reverse once the stages stopped
}

// onClose registers f to run once the stages stopped, before what was
// registered earlier.
func (e *Env) onClose(f func()) { e.closers = append(e.closers, f) }

// close runs the registered closers, the last registered first.
func (e *Env) close() {
	for _, f := range slices.Backward(e.closers) {
		f()
	}
	e.closers = nil
}

// selectName is the name stages: chooses d by.
func (d StageDef) selectName() string {
	if d.Select != "" {
		return d.Select
	}
	return d.Name
}

// enabled returns why cfg does not enable d, or nil.
func (d StageDef) enabled(cfg *config.Config) error {
	if d.Enabled == nil {
		return nil
	}
	return d.Enabled(cfg)
}

// CheckStage reports why a process with cfg cannot run the stage name
// alone (`telekernel stage NAME`): not a stage, or not enabled.
func CheckStage(cfg *config.Config, name string) error {
	if !slices.Contains(StageNames(), name) {
		return fmt.Errorf("%q is not one of %s", name, strings.Join(StageNames(), ", "))
	}
	for _, d := range Stages {
		if d.selectName() == name {
			if err := d.enabled(cfg); err != nil {
				return err
			}
		}
	}
	return nil
}

// StageNames are the names `stages:` and `telekernel stage` take, in the
// registry's order.
func StageNames() []string {
	var out []string
	for _, d := range Stages {
		if n := d.selectName(); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// CheckStages reports the first name in cfg's `stages:` that is not a
// stage of the registry, as "stages[i]: problem".
func CheckStages(cfg *config.Config) error {
	names := StageNames()
	for i, s := range cfg.Stages {
		if !slices.Contains(names, s) {
			return fmt.Errorf("stages[%d]: %q is not one of %s", i, s, strings.Join(names, ", "))
		}
	}
	return nil
}

// chosen returns the rows of defs a process with cfg runs: those its
// `stages:` selects (every one when unset) whose configuration is enabled.
func chosen(defs []StageDef, cfg *config.Config) []StageDef {
	var out []StageDef
	for _, d := range defs {
		if cfg.Runs(d.selectName()) && d.enabled(cfg) == nil {
			out = append(out, d)
		}
	}
	return out
}

func samplesTopic(c *config.Config) string     { return c.Topics.Samples }
func detectionsTopic(c *config.Config) string  { return c.Topics.Detections }
func powerTopic(c *config.Config) string       { return c.Topics.Power }
func maintenanceTopic(c *config.Config) string { return c.Topics.Maintenance }

func parquetEnabled(c *config.Config) error {
	if !*c.Parquet.Enabled {
		return errors.New("parquet.enabled is false")
	}
	return nil
}

func clickhouseEnabled(c *config.Config) error {
	if len(c.ClickHouse.Addr) == 0 {
		return errors.New("clickhouse.addr is empty")
	}
	return nil
}

func alertmanagerEnabled(c *config.Config) error {
	if c.Alertmanager.URL == "" {
		return errors.New("alertmanager.url is empty")
	}
	return nil
}

func buildDetect(_ context.Context, env *Env) (Built, error) {
	d, err := detect.New(env.Config.Detect, env.Config.Topics.Detections, env.Metrics, env.Log)
	if err != nil {
		return Built{}, err
	}
	return Built{Proc: d,
		Report:   func(s *Summary, _ pipeline.Stats) { s.Detections, s.Series = d.Emitted(), d.Series() },
		Progress: func() string { return fmt.Sprintf("series %d  detections %d", d.Series(), d.Emitted()) },
	}, nil
}

func buildPower(_ context.Context, env *Env) (Built, error) {
	c := env.Config
	p, err := power.New(c.Power, c.Topics.Power, c.Topics.Detections, env.Metrics, env.Log)
	if err != nil {
		return Built{}, err
	}
	return Built{Proc: p, Report: func(s *Summary, _ pipeline.Stats) { s.PowerMessages = p.Rows() }}, nil
}

func buildMaintain(_ context.Context, env *Env) (Built, error) {
	m, err := maintain.New(env.Config.Maintain, env.Config.Topics.Maintenance, env.Metrics, env.Log)
	if err != nil {
		return Built{}, err
	}
	return Built{Proc: m, Report: func(s *Summary, _ pipeline.Stats) { s.Maintenance = m.Emitted() }}, nil
}

func buildParquet(_ context.Context, env *Env) (Built, error) {
	c := env.Config.Parquet
	pw, err := parquet.New(c.Config, parquet.WithLogger(env.Log))
	if err != nil {
		return Built{}, err
	}
	return Built{Sink: parquet.NewStage(pw, defaultMem), FlushRows: c.FlushRows, FlushInterval: c.FlushInterval,
		Report: func(s *Summary, _ pipeline.Stats) {
			st := pw.Stats()
			// Re-delivered offsets replace files this run wrote: count what is on disk.
			s.ParquetRows, s.ParquetFiles = st.Rows-st.OwnReplacedRows, st.Files-st.OwnReplaced
		}}, nil
}

// clickhouseSink returns the ClickHouse client the clickhouse rows share,
// connecting and creating the tables on the first call.
func (e *Env) clickhouseSink(ctx context.Context) (*clickhouse.Sink, error) {
	if e.ch != nil {
		return e.ch, nil
	}
	s, err := clickhouse.New(ctx, e.Config.ClickHouse.Config, clickhouse.WithLogger(e.Log))
	if err != nil {
		return nil, err
	}
	if err := s.EnsureTables(ctx); err != nil {
		s.Close()
		return nil, err
	}
	e.ch = s
	e.onClose(func() { s.Close() })
	return s, nil
}

// clickhouseBuilt runs sink as a ClickHouse stage: its rows count as
// ClickHouse rows in the summary.
func clickhouseBuilt(env *Env, sink pipeline.Sink) Built {
	c := env.Config.ClickHouse
	return Built{Sink: sink, FlushRows: c.FlushRows, FlushInterval: c.FlushInterval,
		Report: func(s *Summary, st pipeline.Stats) { s.ClickHouseRows += st.Flushed }}
}

func buildClickHouseSamples(ctx context.Context, env *Env) (Built, error) {
	s, err := env.clickhouseSink(ctx)
	if err != nil {
		return Built{}, err
	}
	samples := clickhouse.NewSamplesStage(s, defaultMem)
	b := clickhouseBuilt(env, samples)
	b.Close = samples.Close
	return b, nil
}

// buildClickHouse builds a ClickHouse stage of a results table.
func buildClickHouse[S pipeline.Sink](newStage func(*clickhouse.Sink) S) func(context.Context, *Env) (Built, error) {
	return func(ctx context.Context, env *Env) (Built, error) {
		s, err := env.clickhouseSink(ctx)
		if err != nil {
			return Built{}, err
		}
		return clickhouseBuilt(env, newStage(s)), nil
	}
}

func buildAlertState(ctx context.Context, env *Env) (Built, error) {
	t := env.Config.Topics
	if err := alertstate.EnsureTopic(ctx, env.Admin, t.AlertState, t.Partitions); err != nil {
		return Built{}, err
	}
	as, err := alertstate.New(alertstate.Config{Topic: t.AlertState}, env.Out)
	if err != nil {
		return Built{}, err
	}
	return Built{Sink: as, FlushInterval: time.Second}, nil
}

func buildAlertmanager(ctx context.Context, env *Env) (Built, error) {
	am, err := newAlertmanager(ctx, env.Config, env.Kafka, env.Admin, env.Registry, env.Log)
	if err != nil {
		return Built{}, err
	}
	return Built{Sink: am, FlushInterval: time.Second, Close: func() { am.Close(context.Background()) }}, nil
}
