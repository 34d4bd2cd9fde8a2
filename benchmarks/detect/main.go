// Command detect benchmarks the detect stage on a real Kafka: it writes
// simulated samples to a fresh topic, then measures, on the same messages
// and in the same run, (1) a raw franz-go consume→produce passthrough and
// (2) the exactly-once detect stage (rates, robust z-scores, alert state,
// changelog, transactions). It prints samples/s, samples per CPU-second of
// this process, their ratio, and the detector state bytes per series; with
// --rounds N (default 3) it runs both N times, alternating which goes
// first, and prints each round's ratio and the medians.
//
//	go run ./benchmarks/detect --kafka 127.0.0.1:9092 --samples 2000000
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/benchmarks/internal/benchkit"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

func main() {
	var (
		broker     = flag.String("kafka", "127.0.0.1:9092", "Kafka bootstrap address")
		samples    = flag.Int("samples", 2_000_000, "samples to write and process")
		devices    = flag.Int("devices", 100, "simulated devices")
		interfaces = flag.Int("interfaces", 0, "interfaces per simulated device (0: the simulator's default, 4); a device has 6 series per interface and 10 more")
		partitions = flag.Int("partitions", 6, "partitions of the input topic")
		batch      = flag.Int("batch", 60, "ticks per Kafka message per device")
		cpuprofile = flag.String("cpuprofile", "", "write a CPU profile of the detect stage's run to this file")
		tracefile  = flag.String("trace", "", "write an execution trace of the detect stage's run to this file (go tool trace)")
		workers    = flag.Int("workers", 0, "the detect stage's workers (detect.workers; 0: its default, 1)")
		checkpoint = flag.Duration("checkpoint-interval", 0, "the detect stage's detect.transaction.checkpoint_interval (0: every transaction)")
		maxRecords = flag.Int("txn-max-records", 0, "the detect stage's detect.transaction.max_records (0: its default, 10000); the messages of one tick of the fleet (--devices with --batch 1) make transactions of about one sample per series, as at steady state (a transaction holds at most that many messages)")
		rounds     = flag.Int("rounds", 3, "rounds of passthrough and detect on the same input, alternating which goes first; the figures are medians")
	)
	flag.Parse()
	profile, traceFile = *cpuprofile, *tracefile
	if err := run(os.Stdout, *broker, *samples, sim.Config{Devices: *devices, Interfaces: *interfaces}, *partitions, *batch, *workers, *rounds,
		pipeline.TransactionConfig{CheckpointInterval: *checkpoint, MaxRecords: *maxRecords}); err != nil {
		fmt.Fprintln(os.Stderr, "detect benchmark:", err)
		os.Exit(1)
	}
}

// profile and traceFile are the files the detect stage's CPU profile and
// execution trace go to ("": none).
var profile, traceFile string

// cpuSeconds returns the CPU-seconds this process has used so far.
func cpuSeconds() float64 { return benchkit.CPU().Seconds() }

// run benchmarks n samples of fleet (its start is set here), the detect
// stage with the transaction settings of txn.
func run(w io.Writer, broker string, n int, fleet sim.Config, partitions, batch, workers, rounds int, txn pipeline.TransactionConfig) error {
	if rounds < 1 {
		return fmt.Errorf("--rounds %d: at least 1", rounds)
	}
	ctx := context.Background()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := "bench-" + hex.EncodeToString(b)
	kc := kafka.Config{Brokers: []string{broker}}
	cl, err := kafka.Connect(ctx, kc, kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	defer deleteTopics(cl, id)
	in := id + ".samples"
	if err := kafka.EnsureTopics(ctx, cl,
		kafka.TopicSpec{Name: in, Partitions: int32(partitions)},
		kafka.TopicSpec{Name: id + ".passthrough", Partitions: int32(partitions)},
		kafka.TopicSpec{Name: id + ".detections", Partitions: int32(partitions)},
	); err != nil {
		return err
	}
	st, err := writeInput(ctx, w, cl, in, n, fleet, batch)
	if err != nil {
		return err
	}
	end, err := pipeline.EndOffsets(ctx, cl, in)
	if err != nil {
		return err
	}
	total := float64(st.Samples)
	var pass, det []timing
	var last detRun
	for r := range rounds {
		// Alternate which goes first, so neither always meets the
		// broker's page cache (or its stalls) in the same state.
		var p timing
		var d detRun
		if r%2 == 0 {
			if p, err = passthrough(ctx, broker, in, id+".passthrough", end[in]); err == nil {
				d, err = detectRound(ctx, kc, id, r, in, end, workers, txn)
			}
		} else if d, err = detectRound(ctx, kc, id, r, in, end, workers, txn); err == nil {
			p, err = passthrough(ctx, broker, in, id+".passthrough", end[in])
		}
		if err != nil {
			return err
		}
		pass, det, last = append(pass, p), append(det, d.timing), d
		if rounds > 1 {
			fmt.Fprintf(w, "round %d: passthrough %8.0f samples/s wall, detect %8.0f; ratio %.2f wall, %.2f per CPU-second\n",
				r+1, total/p.wall.Seconds(), total/d.wall.Seconds(), p.wall.Seconds()/d.wall.Seconds(), p.cpu/d.cpu)
		}
	}
	of := ""
	if rounds > 1 {
		of = fmt.Sprintf(" (medians of %d rounds)", rounds)
	}
	pw, pc := medians(pass, total)
	dw, dc := medians(det, total)
	wall, cpu := ratios(pass, det)
	fmt.Fprintf(w, "passthrough (raw franz-go consume→produce): %8.0f samples/s wall, %9.0f samples per CPU-second%s\n", pw, pc, of)
	fmt.Fprintf(w, "detect stage (exactly once):                 %8.0f samples/s wall, %9.0f samples per CPU-second%s\n", dw, dc, of)
	fmt.Fprintf(w, "ratio detect/passthrough: %s wall, %s per CPU-second%s; %d transactions, %d detections\n",
		wall, cpu, of, last.transactions, last.detections)
	fmt.Fprintf(w, "detect wall: %v to the first record (group join, changelog), %v from it to the last commit (%.2f cores busy), of which %v in Process and %v in Checkpoint; %d workers%s\n",
		last.first.Round(time.Millisecond), (last.wall - last.first).Round(time.Millisecond), last.cpuFirst/(last.wall-last.first).Seconds(),
		last.process.Round(time.Millisecond), last.checkpnt.Round(time.Millisecond), cmp.Or(workers, 1), lastOf(rounds))
	fmt.Fprintf(w, "state: %d series, %.0f bytes per series in the changelog encoding; %.0f changelog records, %.3f per sample%s\n",
		last.series, float64(last.stateBytes)/float64(max(last.series, 1)), last.changelog, last.changelog/total, lastOf(rounds))
	return nil
}

// lastOf labels a figure of the last round when there are several.
func lastOf(rounds int) string {
	if rounds > 1 {
		return " (last round)"
	}
	return ""
}

// timing is one run's wall and CPU time.
type timing struct {
	wall time.Duration
	cpu  float64 // CPU-seconds of this process
}

// detRun is one run of the detect stage: its timing, the split of its
// wall time, and what it wrote.
type detRun struct {
	timing
	first, process, checkpnt time.Duration
	cpuFirst                 float64 // CPU-seconds from the first record to the last commit
	transactions             int64
	detections               int64
	series, stateBytes       int
	changelog                float64
}

// detectRound runs the exactly-once detect stage over the input up to end,
// in a consumer group (and changelog) of its own for round r, with the CPU
// profile and trace of the first round when asked for.
func detectRound(ctx context.Context, kc kafka.Config, id string, r int, in string, end map[string]map[int32]int64, workers int, txn pipeline.TransactionConfig) (detRun, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	m := pipeline.NewMetrics(reg)
	det, err := detect.New(detect.Config{Workers: workers, Transaction: txn}, id+".detections", m, log)
	if err != nil {
		return detRun{}, err
	}
	proc := &firstTimed{Stage: det}
	group := fmt.Sprintf("%s-detect-%d", id, r+1)
	tr, err := pipeline.NewTransactRunner(ctx, kc, pipeline.TransactConfig{Name: "detect", Group: group, Input: in, DeadLetterTopic: id + ".dlq"}, proc, m, log)
	if err != nil {
		return detRun{}, err
	}
	prof, trace := profile, traceFile
	if r > 0 {
		prof, trace = "", ""
	}
	stop, err := benchkit.StartCPUProfile(prof)
	if err != nil {
		return detRun{}, err
	}
	stopTrace, err := benchkit.StartTrace(trace)
	if err != nil {
		stop()
		return detRun{}, err
	}
	c0, w0 := cpuSeconds(), time.Now()
	tr.DrainTo(end)
	err = tr.Run(ctx)
	stopTrace()
	stop()
	if err != nil {
		return detRun{}, err
	}
	d := detRun{timing: timing{wall: time.Since(w0), cpu: cpuSeconds() - c0},
		first: proc.first.Sub(w0), process: proc.process, checkpnt: proc.checkpnt, cpuFirst: cpuSeconds() - proc.cpu,
		transactions: tr.Stats().Transactions, detections: det.Emitted(),
		changelog: benchkit.CounterValue(reg, "telekernel_stage_changelog_records_total")}
	for _, s := range det.SeriesStates() {
		d.series++
		d.stateBytes += len(s)
	}
	return d, nil
}

// medians returns the median rates of runs over total samples: per second
// of wall time and per CPU-second.
func medians(runs []timing, total float64) (wall, cpu float64) {
	return median(each(len(runs), func(i int) float64 { return total / runs[i].wall.Seconds() })),
		median(each(len(runs), func(i int) float64 { return total / runs[i].cpu }))
}

// ratios returns the median and range of detect's rate over the
// passthrough's, round by round, by wall time and by CPU time.
func ratios(pass, det []timing) (wall, cpu string) {
	return spread(each(len(pass), func(i int) float64 { return pass[i].wall.Seconds() / det[i].wall.Seconds() })),
		spread(each(len(pass), func(i int) float64 { return pass[i].cpu / det[i].cpu }))
}

// each returns f(0), …, f(n−1).
func each(n int, f func(int) float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// spread formats the median of xs, and their range when there are several.
func spread(xs []float64) string {
	if len(xs) == 1 {
		return fmt.Sprintf("%.2f", xs[0])
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", median(xs), slices.Min(xs), slices.Max(xs))
}

// median returns the median of xs (not empty), reordering them.
func median(xs []float64) float64 {
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}

// deleteTopics deletes the topics the run made (their names start with
// id), so repeated runs do not fill the shared broker's disk.
func deleteTopics(cl *kgo.Client, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	td, err := adm.ListTopics(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "detect benchmark: cannot list topics to delete:", err)
		return
	}
	var names []string
	for _, name := range td.Names() {
		if strings.HasPrefix(name, id) {
			names = append(names, name)
		}
	}
	if _, err := adm.DeleteTopics(ctx, names...); err != nil {
		fmt.Fprintln(os.Stderr, "detect benchmark: cannot delete its topics:", err)
	}
}

// firstTimed is the detect stage, noting when it was handed its first
// record (and the process's CPU-seconds then) and the wall time spent in
// its Process and Checkpoint: the
// benchmark's wall time splits into the start (joining the group, reading
// the changelog), the stage's own work, and the rest (waiting for
// fetches, produce acknowledgements and commits).
type firstTimed struct {
	*detect.Stage
	first             time.Time
	cpu               float64
	process, checkpnt time.Duration
}

// Process notes the time of the first call and processes r.
func (f *firstTimed) Process(ctx context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	t0 := time.Now()
	if f.first.IsZero() {
		f.first, f.cpu = t0, cpuSeconds()
	}
	defer func() { f.process += time.Since(t0) }()
	return f.Stage.Process(ctx, r, emit)
}

// Checkpoint checkpoints the stage, timed.
func (f *firstTimed) Checkpoint(emit func(partition int32, key, value []byte)) {
	t0 := time.Now()
	f.Stage.Checkpoint(emit)
	f.checkpnt += time.Since(t0)
}

// writeInput writes about n samples of the devices of cfg to topic in, one
// message per device per batch of ticks, and prints what it wrote.
func writeInput(ctx context.Context, w io.Writer, cl *kgo.Client, in string, n int, cfg sim.Config, batch int) (publish.Stats, error) {
	cfg.Start = time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)
	fleet, err := sim.New(cfg)
	if err != nil {
		return publish.Stats{}, err
	}
	pub, err := publish.New(cl, publish.Config{Topic: in, MaxRows: 1 << 30})
	if err != nil {
		return publish.Stats{}, err
	}
	t0 := time.Now()
	ticks := n / (cfg.WithDefaults().Devices * fleet.SeriesPerDevice())
	for i := 1; i <= ticks; i++ {
		fleet.Next(func(s *schemas.Sample) { _ = pub.Add(ctx, s) })
		if i%batch == 0 || i == ticks {
			if err := pub.Flush(ctx); err != nil {
				return publish.Stats{}, err
			}
		}
	}
	st := pub.Stats()
	fmt.Fprintf(w, "input: %d samples in %d messages (%.1f MB, %d samples/message) written in %v\n",
		st.Samples, st.Batches, float64(st.Bytes)/1e6, st.Samples/max(st.Batches, 1), time.Since(t0).Round(time.Millisecond))
	return st, nil
}

// passthrough is the baseline: a raw franz-go client consumes topic in up
// to its end offsets and produces every record to out. It returns the wall
// and CPU time it took, or the first error reading or writing: a baseline
// that lost records would time less work than the stage does.
func passthrough(ctx context.Context, broker, in, out string, end map[int32]int64) (timing, error) {
	// The producer's batches keep franz-go's default limit, the broker's
	// default message.max.bytes, as the stage's producer does: with a
	// larger one the broker refused most of the batches, and the
	// passthrough timed writing the rest.
	pass, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics(in), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return timing{}, err
	}
	defer pass.Close()
	var failed atomic.Pointer[error] // the first write the broker refused
	written := func(_ *kgo.Record, err error) {
		if err != nil {
			failed.CompareAndSwap(nil, &err)
		}
	}
	c0, w0 := cpuSeconds(), time.Now()
	left := int64(0)
	for _, off := range end {
		left += off
	}
	for left > 0 && failed.Load() == nil {
		fs := pass.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return timing{}, fmt.Errorf("passthrough: reading %s: %w", in, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			left--
			pass.Produce(ctx, &kgo.Record{Topic: out, Key: r.Key, Value: r.Value, Headers: r.Headers}, written)
		})
	}
	if err := pass.Flush(ctx); err != nil {
		return timing{}, err
	}
	if err := failed.Load(); err != nil {
		return timing{}, fmt.Errorf("passthrough: writing %s: %w", out, *err)
	}
	return timing{wall: time.Since(w0), cpu: cpuSeconds() - c0}, nil
}
