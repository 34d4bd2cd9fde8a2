package app

import (
	"bufio"
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
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/app/live"
	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/collectors/sim/agent"
	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/kafka"
)

// drainTimeout bounds the stop of a process that produced the samples,
// from the signal (or For, or the simulator's span's end): the
// simulator's wind-down and the stages' drain, with the check of what they
// committed, end by then. The stages' final flush and closing follow.
const drainTimeout = 2 * time.Minute

// Options configure Run.
type Options struct {
	Config *config.Config
	// For stops the run after this wall time; 0 runs until ctx is done or
	// the simulator's span is over.
	For time.Duration
	Log *slog.Logger
	// Registry receives the metrics; default a new registry that also
	// holds the Go runtime and process collectors (go_*, process_*).
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
	// Stages is the registry the run chooses its stages from; default
	// Stages.
	Stages []StageDef

	// drainTimeout replaces drainTimeout when set (for tests).
	drainTimeout time.Duration
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
	// failures, savings, incidents and their rules), read back from the
	// output topics; nil on a
	// process of stages only (its outputs mix with other processes').
	Live *live.Counts
	// Incidents are the incidents the correlate stage opened, and
	// OpenIncidents those still open when it stopped.
	Incidents, OpenIncidents int64
	// Previous is the folder (DATA/_previous/STAMP) that received the
	// earlier run's output in the data folder before this run on the
	// embedded broker started; empty when nothing was moved.
	Previous string
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
	if slices.Contains(s.Stages, "correlate") {
		out += fmt.Sprintf(", %d incidents (%d open", s.Incidents, s.OpenIncidents)
		if s.Live != nil && len(s.Live.IncidentRules) > 0 {
			out += "; " + strings.Join(s.Live.IncidentRules, ", ")
		}
		out += ")"
	}
	return out
}

var defaultMem = memory.NewGoAllocator()

// startWatcher reads the run's output topics and metrics into a live
// state (for the summary's counts and the terminal view) until ctx is done.
// incidents is the topic of the correlate stage's incidents when it runs,
// else empty.
func startWatcher(ctx context.Context, cfg *config.Config, kc kafka.Config, reg prometheus.Gatherer, incidents string, watch func(*live.Watcher)) (*live.Watcher, error) {
	w, err := live.NewWatcher(ctx, live.Config{Kafka: kc, Detections: cfg.Topics.Detections, Maintenance: cfg.Topics.Maintenance,
		Power: cfg.Topics.Power, Incidents: incidents, Gatherer: reg})
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
// collects it with the real gNMI collector into pub, paced at
// cfg.Sim.Speed, until ctx is done or the span is over; it returns the
// ground-truth labels of the faults (the labels file also holds those of
// the savings), and the outcome arrives on done once the collector has
// published everything the devices sent, or the stop's deadline
// (p.waitDeadline) passed.
func (p *process) runSim(ctx context.Context, pub *publish.Publisher, done chan<- error) ([]sim.Label, error) {
	cfg, reg, now, log := p.cfg, p.reg, p.opts.Now, p.log
	sc := cfg.Sim.Fleet()
	if sc.Start.IsZero() {
		sc.Start = now().Add(-cfg.Sim.Backfill).Truncate(sc.Interval).UTC()
	}
	fleet, err := sim.New(sc)
	if err != nil {
		return nil, err
	}
	// The savings' ground truth holds until the end of the span, or, on
	// an open-ended run, as far as is known now: the end of the backfill.
	until := now().UTC().Truncate(time.Second)
	if cfg.Sim.Span > 0 {
		until = sc.Start.Add(cfg.Sim.Span)
	}
	if err := WriteLabels(cfg.Sim.LabelsFile, append(slices.Clip(fleet.Labels()), fleet.SavingLabels(until)...)); err != nil {
		return nil, err
	}
	devices, err := agent.New(agent.Config{}, fleet, agent.WithLogger(log))
	if err != nil {
		return nil, err
	}
	col, err := gnmi.New(simCollectorConfig(devices.Targets(), sc.Interval, float64(cfg.Sim.Speed)), pub,
		gnmi.WithLogger(log), gnmi.WithMetrics(gnmi.NewMetrics(reg)))
	if err != nil {
		devices.Close()
		return nil, err
	}
	// The collector outlives ctx: after the last step it must still
	// receive and publish what the devices sent.
	colCtx, stopCol := context.WithCancel(context.WithoutCancel(ctx))
	// The run fails for any sample it lost, not only for those its
	// wind-down waited for: the wind-down waits since here.
	mark := pub.Mark()
	colDone := make(chan error, 1)
	go func() { colDone <- col.Run(colCtx) }()
	// stop stops the collector and the devices, waiting for the collector
	// until wctx is done: past the stop's deadline it is left to end
	// (within gnmi.ShutdownGrace, or when Run closes the Kafka client).
	stop := func(wctx context.Context) error {
		stopCol()
		defer devices.Close()
		select {
		case err := <-colDone:
			return err
		case <-wctx.Done():
			return fmt.Errorf("simulator: the gNMI collector did not stop in time: %w", wctx.Err())
		}
	}
	// Ticks sent before a device has a subscriber are lost, so start
	// stepping once every device is subscribed.
	for t0 := time.Now(); col.Stats().Connects < uint64(len(devices.Targets())); time.Sleep(5 * time.Millisecond) {
		if ctx.Err() != nil || time.Since(t0) > 30*time.Second {
			return nil, errors.Join(fmt.Errorf("simulator: only %d of %d devices subscribed by the gNMI collector", col.Stats().Connects, len(devices.Targets())), stop(context.Background()))
		}
	}
	log.Info("simulating a device fleet over gNMI", "devices", sc.Devices, "series", fleet.SamplesPerTick(),
		"interval", sc.Interval.String(), "start", sc.Start, "speed", strconv.FormatFloat(float64(cfg.Sim.Speed), 'g', -1, 64), "labels", cfg.Sim.LabelsFile)
	go func() {
		err := devices.Run(ctx, float64(cfg.Sim.Speed), cfg.Sim.Span)
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			err = nil
		}
		// From here on the process is stopping (a signal, For, or the
		// span's end): every wait shares the stop's one deadline.
		wctx, cancel := context.WithDeadline(context.Background(), p.waitDeadline())
		defer cancel()
		done <- errors.Join(err, windDown(wctx, devices, col, pub, mark, stop, log))
	}()
	return fleet.Labels(), nil
}

// windDown waits, until ctx is done, for the collector to receive every
// update the devices sent (at most 30 s) and for Kafka to acknowledge
// every sample; then it stops the collector and the devices with stop
// and flushes pub. Its error counts every sample lost since mark, the
// run's start: a run that lost samples midway (a broker outage it
// recovered from) fails too, saying how many and to which topic.
func windDown(ctx context.Context, devices *agent.Agent, col *gnmi.Collector, pub *publish.Publisher, mark publish.Mark, stop func(context.Context) error, log *slog.Logger) error {
	// Each step samples every series of every device (but an LLDP
	// neighbour while its link is down).
	var err error
	sent := uint64(devices.Stats().Values)
	for t0 := time.Now(); col.Stats().Updates < sent && time.Since(t0) < 30*time.Second && ctx.Err() == nil; {
		time.Sleep(5 * time.Millisecond)
	}
	if got := col.Stats().Updates; got < sent {
		err = fmt.Errorf("simulator: the gNMI collector received %d of the %d updates of %d steps", got, sent, devices.Stats().Steps)
	}
	err = errors.Join(err, waitAcked(ctx, col, pub, mark, log), stop(ctx), pub.Flush(ctx))
	st, ps := col.Stats(), pub.Stats()
	log.Info("simulator done", "steps", devices.Stats().Steps, "updates_expected", sent, "updates_sent", devices.Stats().Updates, "updates_received", st.Updates,
		"samples_collected", st.Samples, "samples_published", ps.Samples, "dropped", st.Dropped, "publish_errors", ps.Errors)
	return err
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

// waitAcked ends the collector's subscriptions, the fleet being done,
// then waits until Kafka acknowledged every sample published so far
// (failing for every sample lost since mark), as
// long as a broker outage makes it but at most until ctx is done (the
// stop's deadline): stopping the collector first would cancel, after
// gnmi.ShutdownGrace, the records still waiting for the broker, and lose
// them; and a collector still subscribed to the devices would, while it
// waits, take their silence for a stall and report them DOWN.
func waitAcked(ctx context.Context, col *gnmi.Collector, pub *publish.Publisher, mark publish.Mark, log *slog.Logger) error {
	start := time.Now()
	err := col.Unsubscribe(ctx)
	if err == nil {
		err = pub.WaitSince(ctx, mark)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		log.Info("waited for Kafka to acknowledge the simulator's samples", "waited", waited.Round(time.Millisecond).String(), "err", err)
	}
	return err
}

// WriteLabels writes the ground truth of injected faults as JSON lines.
// The file appears whole: it is written beside path and renamed, so a
// reader never sees part of it.
func WriteLabels(path string, labels []sim.Label) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cannot write labels: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("cannot write labels: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, nothing
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, l := range labels {
		if err = enc.Encode(l); err != nil {
			break
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("cannot write labels: %w", err)
	}
	return nil
}

func progress(ctx context.Context, w io.Writer, start time.Time, pub *publish.Publisher, stages []stage, done <-chan struct{}) {
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
		for _, st := range stages {
			if st.progress != nil {
				line += "  " + st.progress()
			} else {
				line += fmt.Sprintf("  %s %d rows", st.name, st.st.Stats().Flushed)
			}
		}
		fmt.Fprint(w, line+"   ")
	}
}
