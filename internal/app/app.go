// Package app wires telekernel's components into the processes the CLI runs:
// the embedded default (simulator, in-process broker, detect stage, sinks)
// and the same pipeline on a real Kafka and ClickHouse.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/collectors/sim/agent"
	"github.com/telekernel/telekernel/internal/config"
	"github.com/telekernel/telekernel/internal/live"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/sinks/alertstate"
	"github.com/telekernel/telekernel/sinks/parquet"
)

// drainTimeout bounds how long shutdown waits for stages to catch up.
const drainTimeout = 2 * time.Minute

// Options configure Run.
type Options struct {
	Config *config.Config
	// For stops the run after this wall time; 0 runs until ctx is done or
	// the simulator's span is over.
	For time.Duration
	Log *slog.Logger
	// Registry receives the metrics; default a new registry.
	Registry *prometheus.Registry
	// Progress, when set, receives a live status line every second.
	Progress io.Writer
	// Now is the clock of the summary and of where the simulation starts;
	// default time.Now. (The simulated devices step on the real clock.)
	Now func() time.Time
	// SimOnly runs the simulator and publisher without stages or sinks.
	SimOnly bool
	// Watch, when set, receives the run's live state once the stages
	// run (the terminal view reads its snapshots).
	Watch func(*live.Watcher)
}

// Summary is what a run did.
type Summary struct {
	Elapsed       time.Duration
	Samples       int64 // samples acknowledged by Kafka
	Detections    int64 // detection events acknowledged by Kafka
	PowerMessages int64 // tk.power messages (one per device and window)
	Maintenance   int64 // maintenance events
	DeadLetters   int64 // records written to the dead-letter topic, by every stage
	// DroppedRows are single rows of good messages that stages dropped (a
	// time outside the sample window, a string that is not UTF-8), summed
	// over the stages that read them.
	DroppedRows    int64
	ParquetRows    int64 // rows in Parquet files written by this run and still on disk
	ParquetFiles   int64 // those files
	ClickHouseRows int64 // sample and detection rows inserted
	Series         int
	Labels         []sim.Label
	Brokers        []string
	Stages         []string // stages that ran
	Records        int64    // input records consumed by all stages
	// Live are the counts of what the run found (state alerts, predicted
	// failures, savings), read back from the output topics; nil on a
	// process of stages only (its outputs mix with other processes').
	Live *live.Counts
}

// String is the one-line summary the CLI prints.
func (s Summary) String() string {
	rate := float64(s.Samples) / math.Max(s.Elapsed.Seconds(), 1e-9)
	out := fmt.Sprintf("telekernel: %d samples in %s (%.0f samples/s), %d series, %d detections%s, %d parquet rows in %d files",
		s.Samples, s.Elapsed.Round(time.Millisecond), rate, s.Series, s.Detections, s.stateString(), s.ParquetRows, s.ParquetFiles)
	if s.ClickHouseRows > 0 {
		out += fmt.Sprintf(", %d clickhouse rows", s.ClickHouseRows)
	}
	out += s.resultsString()
	if s.DroppedRows > 0 {
		out += fmt.Sprintf(", %d bad rows dropped", s.DroppedRows)
	}
	return out + fmt.Sprintf(", %d dead letters", s.DeadLetters)
}

// StageString is the one-line summary of a process that ran stages only.
func (s Summary) StageString() string {
	out := fmt.Sprintf("telekernel: ran %s for %s: %d records in, %d dead letters", strings.Join(s.Stages, ", "), s.Elapsed.Round(time.Millisecond), s.Records, s.DeadLetters)
	if s.DroppedRows > 0 {
		out += fmt.Sprintf(", %d bad rows dropped", s.DroppedRows)
	}
	if s.Detections > 0 || slices.Contains(s.Stages, "detect") {
		out += fmt.Sprintf(", %d detections%s, %d series", s.Detections, s.stateString(), s.Series)
	}
	if s.ParquetRows > 0 {
		out += fmt.Sprintf(", %d parquet rows", s.ParquetRows)
	}
	if s.ClickHouseRows > 0 {
		out += fmt.Sprintf(", %d clickhouse rows", s.ClickHouseRows)
	}
	return out + s.resultsString()
}

// stateString names the state alerts among the detections, e.g.
// " (3 state alerts: link_down, session_down)".
func (s Summary) stateString() string {
	if s.Live == nil || !slices.Contains(s.Stages, "detect") {
		return ""
	}
	out := fmt.Sprintf(" (%d state alerts", s.Live.StateAlerts)
	if len(s.Live.StateCauses) > 0 {
		out += ": " + strings.Join(s.Live.StateCauses, ", ")
	}
	return out + ")"
}

func (s Summary) resultsString() string {
	out := ""
	if slices.Contains(s.Stages, "power") {
		out += fmt.Sprintf(", %d power messages", s.PowerMessages)
		if s.Live != nil {
			out += fmt.Sprintf(" (%d savings, %.1f kWh/day)", s.Live.Savings, s.Live.SavingsKWh)
		}
	}
	if slices.Contains(s.Stages, "maintain") {
		out += fmt.Sprintf(", %d maintenance events", s.Maintenance)
		if s.Live != nil {
			out += fmt.Sprintf(" (%d predicted failures)", s.Live.Predicted)
		}
	}
	return out
}

type stage struct {
	name  string
	st    pipeline.Stage
	group string // consumer group
	topic string // input topic
}

// Run runs the pipeline described by opts.Config until opts.For elapses,
// the simulator's span ends, or ctx is done; then it stops the simulator,
// lets every stage drain what was produced, and returns the summary.
func Run(ctx context.Context, opts Options) (Summary, error) {
	cfg := opts.Config
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	var sum Summary
	start := opts.Now()

	kc := cfg.Kafka
	var cluster *kfake.Cluster // the embedded broker, if any
	if len(kc.Brokers) == 0 {
		var err error
		cluster, err = kfake.NewCluster(kfake.Ports(0), kfake.DefaultNumPartitions(int(cfg.Topics.Partitions)),
			kfake.BrokerConfigs(map[string]string{"log.segment.bytes": strconv.Itoa(embeddedSegmentBytes)}))
		if err != nil {
			return sum, fmt.Errorf("embedded broker: %w", err)
		}
		defer cluster.Close()
		kc.Brokers = cluster.ListenAddrs()
		log.Info("started the embedded Kafka-protocol broker", "addr", kc.Brokers[0])
	}
	sum.Brokers = kc.Brokers

	admin, err := pipeline.Connect(ctx, kc)
	if err != nil {
		return sum, err
	}
	defer admin.Close()
	if err := pipeline.EnsureTopics(ctx, admin,
		pipeline.TopicSpec{Name: cfg.Topics.Samples, Partitions: cfg.Topics.Partitions},
		pipeline.TopicSpec{Name: cfg.Topics.Detections, Partitions: cfg.Topics.Partitions},
		pipeline.TopicSpec{Name: cfg.Topics.DeadLetters, Partitions: 1},
		pipeline.TopicSpec{Name: cfg.Topics.Power, Partitions: cfg.Topics.Partitions},
		pipeline.TopicSpec{Name: cfg.Topics.Maintenance, Partitions: cfg.Topics.Partitions},
	); err != nil {
		return sum, err
	}

	metrics := pipeline.NewMetrics(reg)
	var ready atomic.Bool
	if cfg.HTTP.Listen != "off" {
		addr, err := pipeline.ServeHTTP(ctx, cfg.HTTP, reg, pipeline.Health{Ready: func() error {
			if !ready.Load() {
				return errors.New("starting")
			}
			return nil
		}}, log)
		if err != nil {
			return sum, err
		}
		log.Info("serving /metrics, /healthz and /readyz", "addr", addr.String())
	}

	// Stages.
	var inputs, outputs []stage // inputs drain first (they read samples), outputs after detect
	out, err := pipeline.Connect(ctx, kc, kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return sum, err
	}
	defer out.Close()
	want := func(name string) bool { return !opts.SimOnly && slices.Contains(cfg.Stages, name) }
	add := func(list *[]stage, name, group, topic string, sink pipeline.Sink, rows int, every time.Duration) error {
		r, err := pipeline.NewRunner(ctx, kc, pipeline.RunnerConfig{Name: name, Group: group, Topics: []string{topic},
			DeadLetterTopic: cfg.Topics.DeadLetters, FlushRows: rows, FlushInterval: every}, sink, metrics, log)
		if err != nil {
			return err
		}
		*list = append(*list, stage{name: name, st: r, group: group, topic: topic})
		return nil
	}
	// addTransact runs proc as an exactly-once stage over the samples.
	addTransact := func(list *[]stage, name string, proc pipeline.Processor) error {
		group := cfg.Topics.GroupPrefix + "-" + name
		tr, err := pipeline.NewTransactRunner(ctx, kc, pipeline.TransactConfig{Name: name, Group: group,
			Input: cfg.Topics.Samples, DeadLetterTopic: cfg.Topics.DeadLetters}, proc, metrics, log)
		if err != nil {
			return err
		}
		*list = append(*list, stage{name: name, st: tr, group: group, topic: cfg.Topics.Samples})
		return nil
	}
	var detect *pipeline.Detect
	if want("detect") {
		detect, err = pipeline.NewDetect(cfg.Detect, cfg.Topics.Detections, metrics, log)
		if err != nil {
			return sum, err
		}
		if err := addTransact(&inputs, "detect", detect); err != nil {
			return sum, err
		}
	}
	var pwr *pipeline.Power
	if want("power") {
		if pwr, err = pipeline.NewPower(cfg.Power, cfg.Topics.Power, cfg.Topics.Detections, metrics, log); err != nil {
			return sum, err
		}
		if err := addTransact(&inputs, "power", pwr); err != nil {
			return sum, err
		}
	}
	var mnt *pipeline.Maintain
	if want("maintain") {
		if mnt, err = pipeline.NewMaintain(cfg.Maintain, cfg.Topics.Maintenance, metrics, log); err != nil {
			return sum, err
		}
		if err := addTransact(&inputs, "maintain", mnt); err != nil {
			return sum, err
		}
	}
	var pw *parquet.Writer
	if want("parquet") && *cfg.Parquet.Enabled {
		pw, err = parquet.New(parquet.Config{Root: cfg.Parquet.Root, TimestampUnit: cfg.Parquet.TimestampUnit}, parquet.WithLogger(log))
		if err != nil {
			return sum, err
		}
		if err := add(&inputs, "parquet", cfg.Topics.GroupPrefix+"-parquet", cfg.Topics.Samples, parquet.NewStage(pw, defaultMem), cfg.Parquet.FlushRows, cfg.Parquet.FlushInterval); err != nil {
			return sum, err
		}
	}
	if want("clickhouse") && len(cfg.ClickHouse.Addr) > 0 {
		chs, err := addClickHouse(ctx, cfg, log, func(name, group, topic string, sink pipeline.Sink, rows int, every time.Duration, second bool) error {
			if second {
				return add(&outputs, name, group, topic, sink, rows, every)
			}
			return add(&inputs, name, group, topic, sink, rows, every)
		})
		if err != nil {
			return sum, err
		}
		defer chs.Close()
	}

	if want("alertstate") {
		if err := alertstate.EnsureTopic(ctx, admin, cfg.Topics.AlertState, cfg.Topics.Partitions); err != nil {
			return sum, err
		}
		as, err := alertstate.New(out, cfg.Topics.AlertState)
		if err != nil {
			return sum, err
		}
		if err := add(&outputs, "alertstate", cfg.Topics.GroupPrefix+"-alertstate", cfg.Topics.Detections, as, 0, time.Second); err != nil {
			return sum, err
		}
	}
	if want("alertmanager") && cfg.Alertmanager.URL != "" {
		am, err := newAlertmanager(ctx, cfg, kc, admin, reg, log)
		if err != nil {
			return sum, err
		}
		defer am.Close(context.Background())
		if err := add(&outputs, "alertmanager", cfg.Topics.GroupPrefix+"-alertmanager", cfg.Topics.Detections, am, 0, time.Second); err != nil {
			return sum, err
		}
	}

	// The live state: for the summary's counts of a self-contained run,
	// and for the terminal view.
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWatch()
	var watcher *live.Watcher
	if *cfg.Sim.Enabled || opts.Watch != nil {
		if watcher, err = startWatcher(watchCtx, cfg, kc, reg, opts.Watch); err != nil {
			log.Warn("cannot follow the run's results; the summary will not count them", "err", err)
		} else {
			defer watcher.Close()
		}
	}

	// Stages run on their own context: a signal stops the simulator, then
	// the stages drain what was produced before they stop.
	stageCtx, cancelStages := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStages()
	g, gctx := errgroup.WithContext(stageCtx)
	done := map[string]chan struct{}{}
	for _, st := range append(append([]stage(nil), inputs...), outputs...) {
		ch := make(chan struct{})
		done[st.name] = ch
		g.Go(func() error {
			defer close(ch)
			return st.st.Run(gctx)
		})
	}
	ready.Store(true)
	if cluster != nil {
		var cs []consumer
		for _, st := range append(append([]stage(nil), inputs...), outputs...) {
			cs = append(cs, consumer{group: st.group, topic: st.topic})
		}
		go retainEmbedded(gctx, cluster, admin, cs, log)
	}

	// The source: the paced simulator until For, Span, a signal, or a
	// failed stage.
	srcCtx, stopSrc := context.WithCancel(ctx)
	defer stopSrc()
	context.AfterFunc(gctx, stopSrc)
	if opts.For > 0 {
		var cancel context.CancelFunc
		srcCtx, cancel = context.WithTimeout(srcCtx, opts.For)
		defer cancel()
	}
	// The drain's deadline counts from when the source was told to stop,
	// so stopping the simulator is inside the bound.
	srcStopped := make(chan time.Time, 1)
	context.AfterFunc(srcCtx, func() { srcStopped <- time.Now() })
	var pub *publish.Publisher
	srcDone := make(chan error, 1)
	if *cfg.Sim.Enabled {
		pub, err = publish.New(out, cfg.Topics.Samples, publish.WithLogger(log), publish.WithMetrics(publish.NewMetrics(reg)))
		if err != nil {
			return sum, err
		}
		defer pub.Close()
		labels, err := runSim(srcCtx, cfg, pub, reg, opts.Now, log, srcDone)
		if err != nil {
			return sum, err
		}
		sum.Labels = labels
	} else {
		go func() { <-srcCtx.Done(); srcDone <- nil }()
	}

	var progressDone chan struct{}
	if opts.Progress != nil {
		progressDone = make(chan struct{})
		go progress(gctx, opts.Progress, start, pub, detect, inputs, progressDone)
	}
	srcErr := <-srcDone
	if progressDone != nil {
		close(progressDone)
	}
	if srcErr != nil && !errors.Is(srcErr, context.Canceled) && !errors.Is(srcErr, context.DeadlineExceeded) {
		log.Error("simulator stopped", "err", srcErr)
	}

	// A process that produced the samples drains them: first the stages
	// that read samples, then, once those are done, the stages that read
	// what they produced, each to the end of its own input topic. A
	// process of stages only stops after the current batch: what it did
	// not commit is for the next owner.
	drainFrom := time.Now()
	select {
	case drainFrom = <-srcStopped:
	default:
	}
	dctx, cancel := context.WithDeadline(context.Background(), drainFrom.Add(drainTimeout))
	defer cancel()
	var drainErr error
	if *cfg.Sim.Enabled {
		drainErr = drain(dctx, admin, inputs, done)
		if drainErr == nil {
			drainErr = drain(dctx, admin, outputs, done)
		}
	}
	cancelStages()
	waitErr := g.Wait()
	if errors.Is(waitErr, context.Canceled) {
		waitErr = nil
	}

	sum.Elapsed = opts.Now().Sub(start)
	if watcher != nil {
		if err := watcher.CatchUp(dctx, admin); err != nil {
			log.Warn("cannot count what the run found", "err", err)
		} else {
			c := watcher.Snapshot().Counts
			sum.Live = &c
		}
	}
	stopWatch()
	if pub != nil {
		sum.Samples = pub.Stats().Samples
	}
	if detect != nil {
		sum.Detections = detect.Emitted()
		sum.Series = detect.Series()
	}
	if pwr != nil {
		sum.PowerMessages = pwr.Emitted()
	}
	if mnt != nil {
		sum.Maintenance = mnt.Emitted()
	}
	for _, st := range append(inputs, outputs...) {
		s := st.st.Stats()
		sum.Stages = append(sum.Stages, st.name)
		sum.Records += s.Records
		sum.DeadLetters += s.DeadLetters
		sum.DroppedRows += s.DroppedRows
		if strings.HasPrefix(st.name, "clickhouse-") {
			sum.ClickHouseRows += s.Flushed
		}
	}
	if pw != nil {
		st := pw.Stats()
		// Re-delivered offsets replace files this run wrote: count what is on disk.
		sum.ParquetRows, sum.ParquetFiles = st.Rows-st.OwnReplacedRows, st.Files-st.OwnReplaced
	}
	if err := errors.Join(drainErr, waitErr); err != nil {
		return sum, err
	}
	return sum, nil
}

var defaultMem = memory.NewGoAllocator()

// startWatcher reads the run's output topics and metrics into a live
// state (for the summary's counts and the terminal view) until ctx is done.
func startWatcher(ctx context.Context, cfg *config.Config, kc pipeline.KafkaConfig, reg prometheus.Gatherer, watch func(*live.Watcher)) (*live.Watcher, error) {
	w, err := live.NewWatcher(ctx, live.Config{Kafka: kc, Detections: cfg.Topics.Detections, Maintenance: cfg.Topics.Maintenance,
		Power: cfg.Topics.Power, Gatherer: reg})
	if err != nil {
		return nil, err
	}
	go w.Run(ctx) //nolint:errcheck // Run returns nil once ctx is done
	if watch != nil {
		watch(w)
	}
	return w, nil
}

// runSim serves the simulated fleet as gNMI devices on 127.0.0.1 and
// collects it with the real gNMI collector into pub, paced at cfg.Sim.Speed;
// it returns the ground-truth labels, and the outcome arrives on done once
// the collector has published everything the devices sent.
func runSim(ctx context.Context, cfg *config.Config, pub *publish.Publisher, reg prometheus.Registerer, now func() time.Time, log *slog.Logger, done chan<- error) ([]sim.Label, error) {
	sc := cfg.Sim.Fleet()
	if sc.Start.IsZero() {
		sc.Start = now().Add(-cfg.Sim.Backfill).Truncate(sc.Interval).UTC()
	}
	fleet, err := sim.New(sc)
	if err != nil {
		return nil, err
	}
	if err := WriteLabels(cfg.Sim.LabelsFile, fleet.Labels()); err != nil {
		return nil, err
	}
	devices, err := agent.New(fleet, agent.Options{Log: log})
	if err != nil {
		return nil, err
	}
	col, err := gnmi.New(simCollectorConfig(devices.Targets(), sc.Interval, cfg.Sim.Speed), pub,
		gnmi.WithLogger(log), gnmi.WithMetrics(gnmi.NewMetrics(reg)))
	if err != nil {
		devices.Close()
		return nil, err
	}
	// The collector outlives ctx: after the last step it must still
	// receive and publish what the devices sent.
	colCtx, stopCol := context.WithCancel(context.WithoutCancel(ctx))
	colDone := make(chan error, 1)
	go func() { colDone <- col.Run(colCtx) }()
	stop := func() error {
		stopCol()
		err := <-colDone
		devices.Close()
		return err
	}
	// Ticks sent before a device has a subscriber are lost, so start
	// stepping once every device is subscribed.
	for t0 := time.Now(); col.Stats().Connects < uint64(len(devices.Targets())); time.Sleep(5 * time.Millisecond) {
		if ctx.Err() != nil || time.Since(t0) > 30*time.Second {
			return nil, errors.Join(fmt.Errorf("simulator: only %d of %d devices subscribed by the gNMI collector", col.Stats().Connects, len(devices.Targets())), stop())
		}
	}
	log.Info("simulating a device fleet over gNMI", "devices", sc.Devices, "series", fleet.SamplesPerTick(),
		"interval", sc.Interval.String(), "start", sc.Start, "speed", strconv.FormatFloat(cfg.Sim.Speed, 'g', -1, 64), "labels", cfg.Sim.LabelsFile)
	go func() {
		err := devices.Run(ctx, cfg.Sim.Speed, cfg.Sim.Span)
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			err = nil
		}
		// Wait (bounded) until the collector decoded every update of
		// every step: each step samples every series of every device.
		sent := uint64(devices.Stats().Steps) * uint64(fleet.SamplesPerTick())
		for t0 := time.Now(); col.Stats().Updates < sent && time.Since(t0) < 30*time.Second; {
			time.Sleep(5 * time.Millisecond)
		}
		if got := col.Stats().Updates; got < sent {
			err = errors.Join(err, fmt.Errorf("simulator: the gNMI collector received %d of the %d updates of %d steps", got, sent, devices.Stats().Steps))
		}
		err = errors.Join(err, waitAcked(pub, log), stop(), flushPublisher(pub))
		st, ps := col.Stats(), pub.Stats()
		log.Info("simulator done", "steps", devices.Stats().Steps, "updates_expected", sent, "updates_sent", devices.Stats().Updates, "updates_received", st.Updates,
			"samples_collected", st.Samples, "samples_published", ps.Samples, "dropped", st.Dropped, "publish_errors", ps.Errors)
		done <- err
	}()
	return fleet.Labels(), nil
}

// SimStallTimeout is how long a stream from the simulated fleet may be
// silent: three missed steps at the slower of the replay and the live pace.
func SimStallTimeout(interval time.Duration, speed float64) time.Duration {
	return max(time.Duration(3*float64(interval)/min(speed, 1)), 10*time.Second)
}

// simCollectorConfig subscribes to every leaf of the simulated devices,
// sampled at the fleet's interval, with SimStallTimeout.
func simCollectorConfig(targets []agent.Target, interval time.Duration, speed float64) gnmi.Config {
	stall := SimStallTimeout(interval, speed)
	cfg := gnmi.Config{Subscriptions: []gnmi.Subscription{{Name: "fleet", Paths: []string{"/"}, SampleInterval: interval}}}
	for _, t := range targets {
		// MaxPast off: the simulator's clock is ours, and a sim.start or
		// backfill more than a year back is a choice, not a bad device clock
		// (it never runs past the wall clock, so max_future stays).
		cfg.Targets = append(cfg.Targets, gnmi.Target{Name: t.Name, Address: t.Addr, StallTimeout: stall, MaxPast: -1})
	}
	return cfg
}

// waitAcked waits until Kafka acknowledged every sample published so far,
// as long as a broker outage makes it but at most drainTimeout: stopping
// the collector first would cancel, after gnmi.ShutdownGrace, the records
// still waiting for the broker, and lose them.
func waitAcked(pub *publish.Publisher, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	start := time.Now()
	err := pub.Wait(ctx)
	if waited := time.Since(start); waited > 5*time.Second {
		log.Info("waited for Kafka to acknowledge the simulator's samples", "waited", waited.Round(time.Millisecond).String(), "err", err)
	}
	return err
}

func flushPublisher(pub *publish.Publisher) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return pub.Flush(ctx)
}

// WriteLabels writes the ground truth of injected faults as JSON lines.
func WriteLabels(path string, labels []sim.Label) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cannot write labels: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot write labels: %w", err)
	}
	enc := json.NewEncoder(f)
	for _, l := range labels {
		if err := enc.Encode(l); err != nil {
			f.Close()
			return fmt.Errorf("cannot write labels: %w", err)
		}
	}
	return f.Close()
}

func progress(ctx context.Context, w io.Writer, start time.Time, pub *publish.Publisher, d *pipeline.Detect, stages []stage, done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			fmt.Fprintln(w)
			return
		case <-t.C:
		}
		var samples int64
		if pub != nil {
			samples = pub.Stats().Samples
		}
		el := time.Since(start).Seconds()
		line := fmt.Sprintf("\r%6.0fs  samples %d (%.0f/s)", el, samples, float64(samples)/el)
		if d != nil {
			line += fmt.Sprintf("  series %d  detections %d", d.Series(), d.Emitted())
		}
		for _, st := range stages {
			if st.name != "detect" {
				line += fmt.Sprintf("  %s %d rows", st.name, st.st.Stats().Flushed)
			}
		}
		fmt.Fprint(w, line+"   ")
	}
}
