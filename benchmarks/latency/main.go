// Command latency measures how long a sample takes from its device
// timestamp to each place a person or a system reads it: a detection on the
// detections topic (read_committed), a row in ClickHouse, a row in a
// Parquet file; and, as the baseline measured in the same run, the same
// sample read back raw from the samples topic.
//
// Samples are produced at a steady rate into a fresh topic of a real Kafka,
// stamped with the wall clock as their device time. Spikes injected on
// many series make the detect stage fire (a detection's event time is the
// device time of the sample that fired it); a probe device's samples mark
// when a sink's flush made them durable (an insert that returned is
// visible to ClickHouse queries; a Parquet file is renamed into place).
// Each scenario (rate × sink flush interval) prints p50/p99/p99.9 per path
// and writes a PNG of the latency distributions.
//
//	go run ./benchmarks/latency --kafka 127.0.0.1:9092 --clickhouse 127.0.0.1:9000
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/benchmarks/internal/benchkit"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/clickhouse"
	"github.com/telekernel/telekernel/sinks/parquet"
	"github.com/telekernel/telekernel/stages/detect"
)

// probeDevice is the device whose samples the sink wrappers time.
const probeDevice = "latency-probe"

type flags struct {
	kafka, clickhouse string
	rates             []int
	flushes           []time.Duration
	txns              []time.Duration
	checkpoint        time.Duration
	devices, series   int
	warmup, measure   time.Duration
	out, cpuprofile   string
	// maxDetP99 fails the run when a scenario's sample → detection p99
	// exceeds it (0: no check).
	maxDetP99 time.Duration
}

func main() {
	var f flags
	var rates, flushes, txns string
	flag.StringVar(&f.kafka, "kafka", "127.0.0.1:9092", "Kafka bootstrap address")
	flag.StringVar(&f.clickhouse, "clickhouse", "", "ClickHouse native address (empty: no ClickHouse path)")
	flag.StringVar(&rates, "rates", "100000", "samples per second, comma-separated: one scenario each")
	flag.StringVar(&flushes, "flush-intervals", "1s,200ms", "sink flush intervals, comma-separated: one scenario each")
	flag.StringVar(&txns, "txn-intervals", "250ms", "detect transaction intervals (detect.transaction.interval), comma-separated: one scenario each")
	flag.DurationVar(&f.checkpoint, "checkpoint-interval", 0, "detect.transaction.checkpoint_interval (0: a checkpoint in every transaction)")
	flag.IntVar(&f.devices, "devices", 100, "simulated devices")
	flag.IntVar(&f.series, "series", 100, "counter series per device")
	flag.DurationVar(&f.warmup, "warmup", 20*time.Second, "time before latencies are recorded (detector baselines learn)")
	flag.DurationVar(&f.measure, "measure", 30*time.Second, "time latencies are recorded")
	flag.StringVar(&f.out, "out", ".", "folder for the PNGs")
	flag.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run (every stage, the producer and the readers) to this file")
	flag.DurationVar(&f.maxDetP99, "max-detection-p99", 0, "exit 1 when a scenario's sample → detection p99 exceeds this (0: no check)")
	flag.Parse()
	var err error
	if f.rates, err = parseList(rates, strconv.Atoi); err == nil {
		f.flushes, err = parseList(flushes, time.ParseDuration)
	}
	if err == nil {
		f.txns, err = parseList(txns, time.ParseDuration)
	}
	if err == nil {
		err = run(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "latency benchmark:", err)
		os.Exit(1)
	}
}

func parseList[T any](s string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, p := range strings.Split(s, ",") {
		v, err := parse(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("cannot parse %q: %w", p, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func run(f flags) error {
	stop, err := benchkit.StartCPUProfile(f.cpuprofile)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Printf("%-9s %-7s %-7s %-12s %7s %9s %9s %9s %9s\n", "rate/s", "txn", "flush", "path", "n", "p50 ms", "p99 ms", "p99.9 ms", "max ms")
	for _, rate := range f.rates {
		for _, txn := range f.txns {
			for _, flush := range f.flushes {
				sc := scenario{flags: f, rate: rate, flush: flush, txn: txn}
				if err := sc.report(context.Background()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// report runs the scenario and prints its quantiles per path, the detect
// stage's transactions and changelog records per sample, and a PNG.
func (sc scenario) report(ctx context.Context) error {
	res, ds, err := sc.run(ctx)
	if err != nil {
		return err
	}
	var over error // the p99 bound, checked after the PNG is written
	for _, path := range paths {
		l := res[path]
		if len(l.ms) == 0 {
			continue
		}
		q := l.quantiles()
		fmt.Printf("%-9d %-7v %-7v %-12s %7d %9.1f %9.1f %9.1f %9.1f\n", sc.rate, sc.txn, sc.flush, path, len(l.ms), q[0], q[1], q[2], q[3])
		if limit := sc.maxDetP99; path == pathDetection && limit > 0 && q[1] > float64(limit.Milliseconds()) {
			over = fmt.Errorf("%d samples/s, transaction %v: detection p99 %.0f ms is above --max-detection-p99 %v", sc.rate, sc.txn, q[1], limit)
		}
	}
	fmt.Printf("%-9s %-7s %-7s detect: %d transactions (%.1f/s), %.3f changelog records per sample (%d samples produced), checkpoint interval %v\n", "", "", "",
		ds.txns, float64(ds.txns)/ds.took.Seconds(), float64(ds.changelog)/float64(max(ds.samples, 1)), ds.samples, sc.checkpoint)
	png := filepath.Join(sc.out, fmt.Sprintf("latency-%d-txn%v-%v.png", sc.rate, sc.txn, sc.flush))
	if err := plotCDF(png, fmt.Sprintf("%d samples/s, transaction %v, flush %v", sc.rate, sc.txn, sc.flush), res); err != nil {
		return err
	}
	fmt.Printf("%-9s %-7s %-7s wrote %s\n", "", "", "", png)
	return over
}

// detectStats is what a scenario's detect stage did.
type detectStats struct {
	txns, changelog, samples int64
	took                     time.Duration
}

// The paths measured, in print order.
const (
	pathKafka      = "kafka"
	pathDetection  = "detection"
	pathClickHouse = "clickhouse"
	pathParquet    = "parquet"
)

var paths = []string{pathKafka, pathDetection, pathClickHouse, pathParquet}

// scenario is one measured run at a rate, a detect transaction interval
// and a sink flush interval.
type scenario struct {
	flags
	rate       int
	flush, txn time.Duration
}

// recorder collects latencies per path after the warm-up. Safe for
// concurrent use.
type recorder struct {
	mu    sync.Mutex
	from  time.Time // device times before this are not recorded
	until time.Time
	lat   map[string]*latencies
}

func (r *recorder) add(path string, ts int64, at time.Time) {
	t := time.Unix(0, ts)
	if t.Before(r.from) || !t.Before(r.until) {
		return
	}
	r.mu.Lock()
	r.lat[path].ms = append(r.lat[path].ms, float64(at.Sub(t))/float64(time.Millisecond))
	r.mu.Unlock()
}

func (sc scenario) run(ctx context.Context) (map[string]*latencies, detectStats, error) {
	var ds detectStats
	// A scenario that cannot keep up still ends, with what it measured.
	ctx, cancel := context.WithTimeout(ctx, sc.warmup+sc.measure+2*time.Minute)
	defer cancel()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := "latency-" + hex.EncodeToString(b)
	kc := kafka.Config{Brokers: []string{sc.kafka}}
	// franz-go's default batch limit, the broker's default
	// message.max.bytes: a larger one lets the broker refuse a batch.
	cl, err := kafka.Connect(ctx, kc, kgo.ProducerLinger(time.Millisecond))
	if err != nil {
		return nil, ds, err
	}
	defer cl.Close()
	in, dets := id+".samples", id+".detections"
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: in, Partitions: 6}, kafka.TopicSpec{Name: dets, Partitions: 6}); err != nil {
		return nil, ds, err
	}
	start := time.Now()
	rec := &recorder{from: start.Add(sc.warmup), until: start.Add(sc.warmup + sc.measure), lat: map[string]*latencies{}}
	for _, p := range paths {
		rec.lat[p] = &latencies{}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	m := pipeline.NewMetrics(reg)
	mem := memory.NewGoAllocator()

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	spawn := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && !errors.Is(err, context.Canceled) {
				errs <- err
				cancel()
			}
		}()
	}
	tr, err := startDetect(ctx, kc, id, pipeline.TransactionConfig{Interval: sc.txn, CheckpointInterval: sc.checkpoint}, m, log)
	if err != nil {
		return nil, ds, err
	}
	spawn(func() error { return tr.Run(ctx) })
	dir, err := os.MkdirTemp("", id)
	if err != nil {
		return nil, ds, err
	}
	defer os.RemoveAll(dir)
	pw, err := parquet.New(parquet.Config{Root: dir})
	if err != nil {
		return nil, ds, err
	}
	sinks := map[string]pipeline.Sink{pathParquet: parquet.NewStage(pw, mem)}
	if sc.clickhouse != "" {
		chs, err := clickhouse.New(ctx, clickhouse.Config{Addr: []string{sc.clickhouse}, Database: strings.ReplaceAll(id, "-", "_")}, clickhouse.WithLogger(log))
		if err != nil {
			return nil, ds, err
		}
		defer chs.Close()
		if err := chs.EnsureTables(ctx); err != nil {
			return nil, ds, err
		}
		defer func() { _ = chs.DropDatabase(context.Background()) }()
		stage := clickhouse.NewSamplesStage(chs, mem)
		defer stage.Close()
		sinks[pathClickHouse] = stage
	}
	for path, s := range sinks {
		r, err := pipeline.NewRunner(ctx, kc, pipeline.RunnerConfig{Name: path, Group: id + "-" + path, Topics: []string{in},
			DeadLetterTopic: id + ".dlq", FlushInterval: sc.flush}, &probeSink{Sink: s, path: path, rec: rec, mem: mem}, m, log)
		if err != nil {
			return nil, ds, err
		}
		spawn(func() error { return r.Run(ctx) })
	}
	spawn(func() error { return readTopic(ctx, sc.kafka, in, rec, readProbe(mem, rec)) })
	spawn(func() error { return readTopic(ctx, sc.kafka, dets, rec, readDetection(rec)) })

	spawn(func() error { return probe(ctx, cl, in, rec.until) })
	ds.samples, err = produce(ctx, cl, in, sc, rec.until)
	// The tail: everything produced is read, flushed and committed well
	// within this.
	select {
	case <-time.After(5*time.Second + 2*sc.flush):
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		return nil, ds, err
	}
	ds.txns, ds.took, ds.changelog = tr.Stats().Transactions, time.Since(start), int64(benchkit.CounterValue(reg, "telekernel_stage_changelog_records_total"))
	return rec.lat, ds, err
}

// startDetect makes the detect stage of scenario id (input id.samples,
// detections to id.detections) with transaction cadence txn.
func startDetect(ctx context.Context, kc kafka.Config, id string, txn pipeline.TransactionConfig, m *pipeline.Metrics, log *slog.Logger) (*pipeline.TransactRunner, error) {
	det, err := detect.New(detect.Config{Transaction: txn}, id+".detections", m, log)
	if err != nil {
		return nil, err
	}
	return pipeline.NewTransactRunner(ctx, kc, pipeline.TransactConfig{Name: "detect", Group: id + "-detect", Input: id + ".samples", DeadLetterTopic: id + ".dlq"}, det, m, log)
}

// produce writes the fleet's counters at sc.rate samples/s until until,
// one Arrow batch per device per tick, and returns how many it wrote.
// From a third of the warm-up on, it spikes one series every 100 ms for
// three ticks (×20), so the detect stage fires all through the run.
func produce(ctx context.Context, cl *kgo.Client, topic string, sc scenario, until time.Time) (int64, error) {
	pub, err := publish.New(cl, publish.Config{Topic: topic, MaxRows: 1 << 30})
	if err != nil {
		return 0, err
	}
	n := int64(0)
	perTick := sc.devices * sc.series
	tick := time.Duration(float64(time.Second) * float64(perTick) / float64(sc.rate))
	names := make([]string, sc.devices)
	for i := range names {
		names[i] = fmt.Sprintf("lat-%03d", i)
	}
	keys := make([]string, sc.series)
	for j := range keys {
		keys[j] = fmt.Sprintf("name=Ethernet%d", j)
	}
	values := make([]uint64, perTick)
	spiked := map[int]int{} // series index → ticks of spike left
	spikeFrom := time.Now().Add(sc.warmup / 3)
	nextSpike, k := spikeFrom, 0
	t := time.NewTicker(tick)
	defer t.Stop()
	// A tick the producer missed under load (the ticker drops them) still
	// counts: increments scale with the time since the last tick, so the
	// rates stay level and a stall does not make every series dip at once.
	prev := time.Now().Add(-tick)
	for now := time.Now(); now.Before(until); now = <-t.C {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		scale := float64(now.Sub(prev)) / float64(tick)
		prev = now
		for ; !now.Before(nextSpike); nextSpike = nextSpike.Add(100 * time.Millisecond) {
			// Walk the series with a stride co-prime to their count, so
			// each is spiked at most once in a run of this length.
			k++
			spiked[(k*7919)%perTick] = 3
		}
		ts := now.UnixNano()
		for i, dev := range names {
			for j, key := range keys {
				x := i*sc.series + j
				inc := uint64(float64(1000+10*j) * scale)
				if left := spiked[x]; left > 0 {
					inc *= 20
					spiked[x] = left - 1
				}
				values[x] += inc
				s := schemas.Sample{TS: ts, Device: dev, Metric: "/interfaces/interface/state/counters/in-octets", Keys: key,
					Kind: schemas.KindCounter, U64: values[x], Source: "gnmi"}
				if err := pub.Add(ctx, &s); err != nil {
					return n, err
				}
				n++
			}
		}
		if err := pub.Flush(ctx); err != nil {
			return n, err
		}
	}
	return n, nil
}

// probeEvery is the probe device's sample interval.
const probeEvery = 10 * time.Millisecond

// probe publishes one probe sample every probeEvery until until, each in
// its own message, stamped with the wall clock.
func probe(ctx context.Context, cl *kgo.Client, topic string, until time.Time) error {
	pub, err := publish.New(cl, publish.Config{Topic: topic})
	if err != nil {
		return err
	}
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for now := time.Now(); now.Before(until); now = <-t.C {
		s := schemas.Sample{TS: now.UnixNano(), Device: probeDevice, Metric: "/latency/probe", Kind: schemas.KindGauge, F64: 1, Source: "gnmi"}
		if err := pub.Add(ctx, &s); err != nil {
			return err
		}
		if err := pub.Flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// probeSink wraps a sink stage: the probe device's samples added since the
// last flush become visible when a flush returns.
type probeSink struct {
	pipeline.Sink
	path    string
	rec     *recorder
	mem     memory.Allocator
	pending []int64
}

func (p *probeSink) Add(ctx context.Context, r *kgo.Record) error {
	if string(r.Key) == probeDevice {
		p.pending = appendTS(p.pending, p.mem, r)
	}
	return p.Sink.Add(ctx, r)
}

func (p *probeSink) Flush(ctx context.Context) (int, error) {
	n, err := p.Sink.Flush(ctx)
	if err == nil {
		now := time.Now()
		for _, ts := range p.pending {
			p.rec.add(p.path, ts, now)
		}
		p.pending = p.pending[:0]
	}
	return n, err
}

// appendTS appends the timestamps of a samples record to dst; a record
// that does not decode adds nothing.
func appendTS(dst []int64, mem memory.Allocator, r *kgo.Record) []int64 {
	rec, err := schemas.DecodeSamples(mem, kafka.Headers(r), r.Value)
	if err != nil {
		return dst
	}
	defer rec.Release()
	sr, err := schemas.NewSampleReader(rec)
	if err != nil {
		return dst
	}
	for i := 0; i < sr.Len(); i++ {
		dst = append(dst, sr.TS(i))
	}
	return dst
}

// readTopic reads a topic read_committed from its start until ctx ends,
// handing each record and its arrival time to f.
func readTopic(ctx context.Context, broker, topic string, rec *recorder, f func(*kgo.Record, time.Time)) error {
	c, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		return err
	}
	defer c.Close()
	for ctx.Err() == nil {
		fs := c.PollFetches(ctx)
		at := time.Now()
		fs.EachRecord(func(r *kgo.Record) { f(r, at) })
	}
	return nil
}

// readProbe times the probe's samples as read raw from the samples topic:
// the transport's own latency, the baseline of every other path.
func readProbe(mem memory.Allocator, rec *recorder) func(*kgo.Record, time.Time) {
	var ts []int64
	return func(r *kgo.Record, at time.Time) {
		if string(r.Key) != probeDevice {
			return
		}
		ts = appendTS(ts[:0], mem, r)
		for _, t := range ts {
			rec.add(pathKafka, t, at)
		}
	}
}

// readDetection times each firing detection from the device time of the
// sample that fired it.
func readDetection(rec *recorder) func(*kgo.Record, time.Time) {
	return func(r *kgo.Record, at time.Time) {
		d, err := schemas.DecodeDetection(kafka.Headers(r), r.Value)
		if err != nil || d.State != schemas.StateFiring {
			return
		}
		rec.add(pathDetection, d.EventTime.UnixNano(), at)
	}
}
