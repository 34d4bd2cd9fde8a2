package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/telekernel/telekernel/app/live"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/internal/httpserve"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
)

// stage is a running row of the registry.
type stage struct {
	name     string
	phase    Phase
	st       pipeline.Stage
	group    string // consumer group
	topic    string // input topic
	report   func(*Summary, pipeline.Stats)
	progress func() string
}

// process is one Run: the clients, the stages and what the summary needs.
type process struct {
	opts    Options
	cfg     *config.Config
	log     *slog.Logger
	reg     *prometheus.Registry
	start   time.Time
	cluster *kfake.Cluster // the embedded broker, if any
	env     *Env
	stages  []stage // in the registry's order
	ready   atomic.Bool
	// srcErr is why the simulator's wind-down failed (Kafka too slow to
	// acknowledge its samples before the stop's deadline): Run fails with it.
	srcErr error
	stop   stopClock
	// drainTimeout is Options.drainTimeout, default drainTimeout.
	drainTimeout time.Duration
}

// stopClock records when a process began to stop: the first of a signal,
// For, a failed stage, or the end of the simulator's span. Every wait of
// the stop counts from it. It is safe for concurrent use.
type stopClock struct {
	once     sync.Once
	at       time.Time
	stopping atomic.Bool
}

// mark records now as the start of the stop, unless a start is recorded
// already, and returns the recorded start.
func (c *stopClock) mark() time.Time {
	c.once.Do(func() {
		c.at = time.Now()
		c.stopping.Store(true)
	})
	return c.at
}

// stopBy is when the stop's wind-down and drain end: drainTimeout after
// it began (marking it now if it has not).
func (p *process) stopBy() time.Time { return p.stop.mark().Add(p.drainTimeout) }

// waitDeadline is when the stop's waits end, leaving checkReserve before
// stopBy to check what the stages committed.
func (p *process) waitDeadline() time.Time { return p.stopBy().Add(-checkReserve) }

// ErrStoppedStarting is Run's error when ctx ended (a signal) before the
// process had started: while it connected to Kafka, created its topics,
// built its stages or started the simulator. What the start step then
// failed with is the stop's doing, not a fault; the CLI exits 0 on it, as
// after a stop once running.
var ErrStoppedStarting = errors.New("stopped while starting")

// Run runs the pipeline described by opts.Config until opts.For elapses,
// the simulator's span ends, or ctx is done; then it stops the simulator,
// lets every stage drain what was produced, and returns the summary. When
// ctx ends before the process has started, Run returns ErrStoppedStarting.
// On the embedded broker it holds the data folder's lock (lockData) for
// its life, and fails at once when another run holds it.
func Run(ctx context.Context, opts Options) (Summary, error) {
	p := newProcess(opts)
	var sum Summary
	// The data folder's lock, then the port, then the earlier run's
	// output: a run that cannot start because another holds the folder
	// or the port moves nothing.
	unlock, err := p.lockData()
	if err != nil {
		return sum, err
	}
	defer unlock()
	// The endpoints outlive the signal: the stop (up to drainTimeout and
	// the final flush) can be watched, and a liveness probe still passes.
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHTTP()
	if err := p.serveHTTP(httpCtx); err != nil {
		return sum, err
	}
	if err := p.setAside(&sum); err != nil {
		return sum, err
	}
	closeKafka, err := p.connect(ctx)
	defer closeKafka()
	if err != nil {
		return sum, p.startFailed(ctx, err)
	}
	sum.Brokers = p.env.Kafka.Brokers
	defer p.env.close()
	if !opts.SimOnly {
		if err := p.buildStages(ctx); err != nil {
			return sum, p.startFailed(ctx, err)
		}
	}
	// The live state: for the summary's counts of a self-contained run,
	// and for the terminal view.
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWatch()
	var watcher *live.Watcher
	if *p.cfg.Sim.Enabled || opts.Watch != nil {
		if watcher, err = startWatcher(watchCtx, p.cfg, p.env.Kafka, p.reg, p.incidentsTopic(), opts.Watch); err != nil {
			p.log.Warn("cannot follow the run's results; the summary will not count them", "err", err)
		} else {
			defer watcher.Close()
		}
	}
	// Stages run on their own context: a signal stops the simulator, then
	// the stages drain what was produced before they stop.
	stageCtx, cancelStages := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStages()
	g, gctx := errgroup.WithContext(stageCtx)
	done := p.startStages(g, gctx, watcher)

	pub, err := p.runSource(ctx, gctx, &sum)
	if pub != nil {
		defer pub.Close()
	}
	if err != nil {
		// The deferred closes (the shared sinks, the clients, the broker)
		// must not run under stages that still run.
		cancelStages()
		_ = g.Wait()
		return sum, p.startFailed(ctx, err)
	}
	// One deadline for the whole stop: the simulator's wind-down (inside
	// runSource) counted against it already.
	dctx, cancel := context.WithDeadline(context.Background(), p.stopBy())
	defer cancel()
	var drainErr error
	if *p.cfg.Sim.Enabled {
		drainErr = p.drain(dctx, done)
	}
	cancelStages()
	waitErr := g.Wait()
	if errors.Is(waitErr, context.Canceled) {
		waitErr = nil
	}
	sum.Elapsed = p.opts.Now().Sub(p.start)
	if watcher != nil {
		if err := watcher.CatchUp(dctx, p.env.Admin); err != nil {
			p.log.Warn("cannot count what the run found", "err", err)
		} else {
			c := watcher.Snapshot().Counts
			sum.Live = &c
		}
	}
	stopWatch()
	if pub != nil {
		sum.Samples = pub.Stats().Samples
	}
	p.summarize(&sum)
	return sum, errors.Join(p.srcErr, drainErr, waitErr)
}

// startFailed returns err, the error a start step failed with, or
// ErrStoppedStarting when ctx ended meanwhile: a step cut short by the
// stop fails with whatever it makes of the cancelled ctx (a Kafka
// connection that "failed", a simulator with no device subscribed), which
// is no fault of the system to report.
func (p *process) startFailed(ctx context.Context, err error) error {
	if ctx.Err() == nil || errors.Is(err, ErrStoppedStarting) {
		return err
	}
	p.log.Info("stopped while starting")
	p.log.Debug("the stop cut a start step short", "err", err)
	return ErrStoppedStarting
}

// newProcess applies the defaults of opts.
func newProcess(opts Options) *process {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Registry == nil {
		// The Go runtime's and the process's own metrics (CPU, RSS, GC),
		// as `telekernel collect` serves them: deploy/prometheus and the
		// pipeline dashboard use them.
		opts.Registry = prometheus.NewRegistry()
		opts.Registry.MustRegister(promcollectors.NewGoCollector(), promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}))
	}
	if opts.Stages == nil {
		opts.Stages = Stages
	}
	if opts.drainTimeout == 0 {
		opts.drainTimeout = drainTimeout
	}
	return &process{opts: opts, cfg: opts.Config, log: opts.Log, reg: opts.Registry, start: opts.Now(), drainTimeout: opts.drainTimeout}
}

// ownsData reports whether this process writes in the data folder on the
// embedded broker, whose offsets restart at 0: its Parquet files and
// labels would collide with another such run's. With real brokers the
// offsets go on, the Parquet sink's overlap rule holds, and processes of
// one consumer group may share the folder.
func (p *process) ownsData() bool {
	cfg := p.cfg
	writesLake := !p.opts.SimOnly && *cfg.Parquet.Enabled && cfg.Runs("parquet")
	return len(cfg.Kafka.Brokers) == 0 && (writesLake || *cfg.Sim.Enabled)
}

// lockData takes the data folder's lock (lockData) for the process's life
// when it owns the folder; the returned function releases it.
func (p *process) lockData() (func(), error) {
	if !p.ownsData() {
		return func() {}, nil
	}
	unlock, err := lockData(p.cfg.Parquet.Root)
	if errors.Is(err, errNoFlock) {
		p.log.Warn("cannot lock the data folder; make sure no other telekernel run uses it", "folder", p.cfg.Parquet.Root, "err", err)
		return func() {}, nil
	}
	return unlock, err
}

// setAside moves the output of an earlier run in the data folder into
// DATA/_previous/STAMP/ (setAsideEarlierRun) when this process owns the
// folder (ownsData).
func (p *process) setAside(sum *Summary) error {
	cfg := p.cfg
	if !p.ownsData() {
		return nil
	}
	prev, err := setAsideEarlierRun(cfg.Parquet.Root, cfg.Parquet.Config.WithDefaults().Table, cfg.Sim.LabelsFile, p.opts.Now())
	if err != nil || prev == "" {
		return err
	}
	sum.Previous = prev
	p.log.Info("moved the earlier run's output aside, whole: the embedded broker starts again at offset 0", "from", cfg.Parquet.Root, "to", prev)
	return nil
}

// connect starts the embedded broker when no brokers are configured,
// connects the admin and producer clients and creates the topics. The
// returned function closes what it opened; call it even on an error.
func (p *process) connect(ctx context.Context) (func(), error) {
	cfg := p.cfg
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	kc := cfg.Kafka.WithLogger(p.log)
	if len(kc.Brokers) == 0 {
		cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.DefaultNumPartitions(int(cfg.Topics.Partitions)),
			kfake.BrokerConfigs(map[string]string{"log.segment.bytes": strconv.Itoa(embeddedSegmentBytes)}))
		if err != nil {
			return closeAll, fmt.Errorf("embedded broker: %w", err)
		}
		closers = append(closers, cluster.Close)
		p.cluster = cluster
		kc.Brokers = cluster.ListenAddrs()
		p.log.Info("started the embedded Kafka-protocol broker", "addr", kc.Brokers[0])
	}
	p.env = &Env{Config: cfg, Kafka: kc, Metrics: pipeline.NewMetrics(p.reg), Registry: p.reg, Log: p.log}
	kafka.RegisterAuthFailures(p.reg, kc)
	admin, err := kafka.Connect(ctx, kc)
	if err != nil {
		return closeAll, err
	}
	closers = append(closers, admin.Close)
	p.env.Admin = admin
	if err := kafka.EnsureTopics(ctx, admin,
		kafka.TopicSpec{Name: cfg.Topics.Samples, Partitions: cfg.Topics.Partitions},
		kafka.TopicSpec{Name: cfg.Topics.Detections, Partitions: cfg.Topics.Partitions},
		kafka.TopicSpec{Name: cfg.Topics.DeadLetters, Partitions: 1},
		kafka.TopicSpec{Name: cfg.Topics.Power, Partitions: cfg.Topics.Partitions},
		kafka.TopicSpec{Name: cfg.Topics.Maintenance, Partitions: cfg.Topics.Partitions},
	); err != nil {
		return closeAll, err
	}
	out, err := kafka.Connect(ctx, kc, kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return closeAll, err
	}
	closers = append(closers, out.Close)
	p.env.Out = out
	return closeAll, nil
}

// serveHTTP serves the metrics and health endpoints until ctx is done,
// unless they are off; /readyz answers ready from when the stages run
// until the process begins to stop.
func (p *process) serveHTTP(ctx context.Context) error {
	if p.cfg.HTTP.Listen == "off" {
		return nil
	}
	addr, err := httpserve.Serve(ctx, p.cfg.HTTP, p.reg, httpserve.Health{Ready: func() error {
		switch {
		case p.stop.stopping.Load():
			return errors.New("stopping")
		case !p.ready.Load():
			return errors.New("starting")
		}
		return p.env.Kafka.AuthError() // a client the broker no longer lets in
	}}, p.log)
	if err != nil {
		return err
	}
	p.log.Info("serving /metrics, /healthz and /readyz", "addr", addr.String())
	return nil
}

// buildStages builds the registry's rows this process runs, in order, each
// on the runtime its Build asks for.
func (p *process) buildStages(ctx context.Context) error {
	// Every stage is built before any joins its group, so a stage that
	// cannot start (a database down, a wrong password) stops the run
	// before another consumed anything.
	defs := chosen(p.opts.Stages, p.cfg)
	built := make([]Built, len(defs))
	for i, d := range defs {
		b, err := d.Build(ctx, p.env)
		if err != nil {
			return err
		}
		if b.Close != nil {
			p.env.onClose(b.Close)
		}
		built[i] = b
	}
	for i, d := range defs {
		st, err := p.newRunner(ctx, d, built[i])
		if err != nil {
			return err
		}
		p.stages = append(p.stages, st)
	}
	return nil
}

// newRunner runs b.Proc exactly once or b.Sink at least once, in the
// consumer group PREFIX-NAME on the row's input topic.
func (p *process) newRunner(ctx context.Context, d StageDef, b Built) (stage, error) {
	env := p.env
	st := stage{name: d.Name, phase: d.Phase, group: p.cfg.Topics.GroupPrefix + "-" + d.Name, topic: d.Input(p.cfg),
		report: b.Report, progress: b.Progress}
	var err error
	switch {
	case b.Proc != nil:
		st.st, err = pipeline.NewTransactRunner(ctx, env.Kafka, pipeline.TransactConfig{Name: d.Name, Group: st.group,
			Input: st.topic, DeadLetterTopic: p.cfg.Topics.DeadLetters}, b.Proc, env.Metrics, p.log)
	case b.Sink != nil:
		st.st, err = pipeline.NewRunner(ctx, env.Kafka, pipeline.RunnerConfig{Name: d.Name, Group: st.group, Topics: []string{st.topic},
			DeadLetterTopic: p.cfg.Topics.DeadLetters, FlushRows: b.FlushRows, FlushInterval: b.FlushInterval}, b.Sink, env.Metrics, p.log)
	default:
		err = fmt.Errorf("stage %s: its Build made neither a Processor nor a Sink", d.Name)
	}
	return st, err
}

// startStages runs every stage in g and returns a channel per stage that
// is closed once it stopped. On the embedded broker, the records the
// stages and the live view (watcher, when not nil) have read are deleted
// as they go (retainEmbedded).
func (p *process) startStages(g *errgroup.Group, gctx context.Context, watcher *live.Watcher) map[string]chan struct{} {
	done := map[string]chan struct{}{}
	for _, st := range p.stages {
		ch := make(chan struct{})
		done[st.name] = ch
		g.Go(func() error {
			defer close(ch)
			return st.st.Run(gctx)
		})
	}
	p.ready.Store(true)
	if p.cluster != nil {
		var cs []consumer
		for _, st := range p.stages {
			cs = append(cs, consumer{group: st.group, topic: st.topic})
		}
		var floors []floor
		if watcher != nil {
			floors = append(floors, func(context.Context) (map[string]map[int32]int64, error) { return watcher.Positions(), nil })
		}
		go retainEmbedded(gctx, p.cluster, p.env.Admin, cs, p.log, floors...)
	}
	return done
}

// runSource runs the paced simulator (when enabled) until For, Span, a
// signal (ctx), or a failed stage (gctx), with the progress line; it
// returns once the simulator wound down, within the stop's deadline (the
// stop begins when the source is told to stop, or at the span's end), and
// the publisher, which the caller closes.
func (p *process) runSource(ctx, gctx context.Context, sum *Summary) (*publish.Publisher, error) {
	srcCtx, stopSrc := context.WithCancel(ctx)
	defer stopSrc()
	context.AfterFunc(gctx, stopSrc)
	if p.opts.For > 0 {
		var cancel context.CancelFunc
		srcCtx, cancel = context.WithTimeout(srcCtx, p.opts.For)
		defer cancel()
	}
	context.AfterFunc(srcCtx, func() { p.stop.mark() })
	var pub *publish.Publisher
	srcDone := make(chan error, 1)
	if *p.cfg.Sim.Enabled {
		var err error
		pub, err = publish.New(p.env.Out, publish.Config{Topic: p.cfg.Topics.Samples}, publish.WithLogger(p.log), publish.WithMetrics(publish.NewMetrics(p.reg)))
		if err != nil {
			return nil, err
		}
		labels, err := p.runSim(srcCtx, pub, srcDone)
		if err != nil {
			if gctx.Err() == nil {
				// For running out is a stop, as a signal is (Run's own
				// check sees only the signal's ctx).
				err = p.startFailed(srcCtx, err)
			}
			return pub, err
		}
		sum.Labels = labels
	} else {
		go func() { <-srcCtx.Done(); srcDone <- nil }()
	}
	var progressDone chan struct{}
	if p.opts.Progress != nil {
		progressDone = make(chan struct{})
		go progress(gctx, p.opts.Progress, p.start, pub, p.phase(OnSamples), progressDone)
	}
	srcErr := <-srcDone
	if progressDone != nil {
		close(progressDone)
	}
	if srcErr != nil { // a cancelled ctx is not an error here: runSim drops it
		p.log.Error("simulator stopped", "err", srcErr)
		p.srcErr = fmt.Errorf("the simulator stopped: %s", strings.ReplaceAll(srcErr.Error(), "\n", "; "))
		if errors.Is(srcErr, context.DeadlineExceeded) {
			p.srcErr = fmt.Errorf("the simulator's wind-down ran out of the stop's time (%v) waiting for Kafka: samples it had not acknowledged are lost (%s)",
				p.drainTimeout, strings.ReplaceAll(srcErr.Error(), "\n", "; "))
		}
	}
	return pub, nil
}

// incidentsTopic is the topic of the correlate stage's incidents when this
// process runs it, else empty.
func (p *process) incidentsTopic() string {
	for _, st := range p.stages {
		if st.name == "correlate" {
			return p.cfg.Correlate.Topic
		}
	}
	return ""
}

// phase returns the stages of phase ph.
func (p *process) phase(ph Phase) []stage {
	var out []stage
	for _, st := range p.stages {
		if st.phase == ph {
			out = append(out, st)
		}
	}
	return out
}

// drain lets a process that produced the samples drain them: first the
// stages that read samples, then, once those are done, the stages that
// read what they produced, each to the end of its own input topic. (A
// process of stages only stops after the current batch: what it did not
// commit is for the next owner.)
func (p *process) drain(ctx context.Context, done map[string]chan struct{}) error {
	v := verdict{timeout: p.drainTimeout, embedded: p.cluster != nil}
	for _, ph := range phases {
		if err := drain(ctx, p.env.Admin, p.phase(ph), done, v); err != nil {
			return err
		}
	}
	return nil
}

// summarize adds what every stage counted to sum: the counters every
// stage has, then each stage's own figures.
func (p *process) summarize(sum *Summary) {
	for _, ph := range phases {
		for _, st := range p.phase(ph) {
			s := st.st.Stats()
			sum.Stages = append(sum.Stages, st.name)
			sum.Records += s.Records
			sum.DeadLetters += s.DeadLetters
			sum.DroppedRows += s.DroppedRows
			if st.report != nil {
				st.report(sum, s)
			}
		}
	}
}
