// Command detect benchmarks the detect stage on a real Kafka: it writes
// simulated samples to a fresh topic, then measures, on the same messages
// and in the same run, (1) a raw franz-go consume→produce passthrough and
// (2) the exactly-once detect stage (rates, robust z-scores, alert state,
// changelog, transactions). It prints samples/s, samples per CPU-second of
// this process, their ratio, and the detector state bytes per series.
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
	"strings"
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
		partitions = flag.Int("partitions", 6, "partitions of the input topic")
		batch      = flag.Int("batch", 60, "ticks per Kafka message per device")
		cpuprofile = flag.String("cpuprofile", "", "write a CPU profile of the detect stage's run to this file")
		tracefile  = flag.String("trace", "", "write an execution trace of the detect stage's run to this file (go tool trace)")
		workers    = flag.Int("workers", 0, "the detect stage's workers (detect.workers; 0: its default, 1)")
		checkpoint = flag.Duration("checkpoint-interval", 0, "the detect stage's detect.transaction.checkpoint_interval (0: every transaction)")
	)
	flag.Parse()
	profile, traceFile = *cpuprofile, *tracefile
	if err := run(*broker, *samples, *devices, *partitions, *batch, *workers, *checkpoint); err != nil {
		fmt.Fprintln(os.Stderr, "detect benchmark:", err)
		os.Exit(1)
	}
}

// profile and traceFile are the files the detect stage's CPU profile and
// execution trace go to ("": none).
var profile, traceFile string

// cpuSeconds returns the CPU-seconds this process has used so far.
func cpuSeconds() float64 { return benchkit.CPU().Seconds() }

func run(broker string, n, devices, partitions, batch, workers int, checkpoint time.Duration) error {
	ctx := context.Background()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := "bench-" + hex.EncodeToString(b)
	kc := kafka.Config{Brokers: []string{broker}}
	cl, err := kafka.Connect(ctx, kc, kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(16<<20))
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
	st, err := writeInput(ctx, cl, in, n, devices, batch)
	if err != nil {
		return err
	}
	end, err := pipeline.EndOffsets(ctx, cl, in)
	if err != nil {
		return err
	}
	// (1) Raw franz-go passthrough of the same messages.
	passWall, passCPU, err := passthrough(ctx, broker, in, id+".passthrough", end[in])
	if err != nil {
		return err
	}

	// (2) The exactly-once detect stage.
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	m := pipeline.NewMetrics(reg)
	det, err := detect.New(detect.Config{Workers: workers, Transaction: pipeline.TransactionConfig{CheckpointInterval: checkpoint}}, id+".detections", m, log)
	if err != nil {
		return err
	}
	proc := &firstTimed{Stage: det}
	tr, err := pipeline.NewTransactRunner(ctx, kc, pipeline.TransactConfig{Name: "detect", Group: id + "-detect", Input: in, DeadLetterTopic: id + ".dlq"}, proc, m, log)
	if err != nil {
		return err
	}
	stop, err := benchkit.StartCPUProfile(profile)
	if err != nil {
		return err
	}
	stopTrace, err := benchkit.StartTrace(traceFile)
	if err != nil {
		stop()
		return err
	}
	c0, w0 := cpuSeconds(), time.Now()
	tr.DrainTo(end)
	err = tr.Run(ctx)
	stopTrace()
	stop()
	if err != nil {
		return err
	}
	detWall, detCPU := time.Since(w0), cpuSeconds()-c0

	states := det.SeriesStates()
	bytes := 0
	for _, s := range states {
		bytes += len(s)
	}
	total := float64(st.Samples)
	fmt.Printf("passthrough (raw franz-go consume→produce): %8.0f samples/s wall, %9.0f samples per CPU-second\n", total/passWall.Seconds(), total/passCPU)
	fmt.Printf("detect stage (exactly once):                 %8.0f samples/s wall, %9.0f samples per CPU-second\n", total/detWall.Seconds(), total/detCPU)
	fmt.Printf("ratio detect/passthrough: %.2f wall, %.2f per CPU-second; %d transactions, %d detections\n",
		passWall.Seconds()/detWall.Seconds(), passCPU/detCPU, tr.Stats().Transactions, det.Emitted())
	fmt.Printf("detect wall: %v to the first record (group join, changelog), %v from it to the last commit, of which %v in Process and %v in Checkpoint; %d workers\n",
		proc.first.Sub(w0).Round(time.Millisecond), w0.Add(detWall).Sub(proc.first).Round(time.Millisecond),
		proc.process.Round(time.Millisecond), proc.checkpnt.Round(time.Millisecond), cmp.Or(workers, 1))
	changelog := benchkit.CounterValue(reg, "telekernel_stage_changelog_records_total")
	fmt.Printf("state: %d series, %.0f bytes per series in the changelog encoding; %.0f changelog records, %.3f per sample\n",
		len(states), float64(bytes)/float64(max(len(states), 1)), changelog, changelog/total)
	return nil
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
// record and the wall time spent in its Process and Checkpoint: the
// benchmark's wall time splits into the start (joining the group, reading
// the changelog), the stage's own work, and the rest (waiting for
// fetches, produce acknowledgements and commits).
type firstTimed struct {
	*detect.Stage
	first             time.Time
	process, checkpnt time.Duration
}

// Process notes the time of the first call and processes r.
func (f *firstTimed) Process(ctx context.Context, r *kgo.Record, emit func(*kgo.Record)) error {
	t0 := time.Now()
	if f.first.IsZero() {
		f.first = t0
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

// writeInput writes about n samples of simulated devices to topic in, one
// message per device per batch of ticks, and prints what it wrote.
func writeInput(ctx context.Context, cl *kgo.Client, in string, n, devices, batch int) (publish.Stats, error) {
	fleet, err := sim.New(sim.Config{Devices: devices, Start: time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return publish.Stats{}, err
	}
	pub, err := publish.New(cl, publish.Config{Topic: in, MaxRows: 1 << 30})
	if err != nil {
		return publish.Stats{}, err
	}
	t0 := time.Now()
	ticks := n / (devices * fleet.SeriesPerDevice())
	for i := 1; i <= ticks; i++ {
		fleet.Next(func(s *schemas.Sample) { _ = pub.Add(ctx, s) })
		if i%batch == 0 || i == ticks {
			if err := pub.Flush(ctx); err != nil {
				return publish.Stats{}, err
			}
		}
	}
	st := pub.Stats()
	fmt.Printf("input: %d samples in %d messages (%.1f MB, %d samples/message) written in %v\n",
		st.Samples, st.Batches, float64(st.Bytes)/1e6, st.Samples/max(st.Batches, 1), time.Since(t0).Round(time.Millisecond))
	return st, nil
}

// passthrough is the baseline: a raw franz-go client consumes topic in up
// to its end offsets and produces every record to out. It returns the wall
// and CPU time it took.
func passthrough(ctx context.Context, broker, in, out string, end map[int32]int64) (time.Duration, float64, error) {
	pass, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics(in), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(16<<20))
	if err != nil {
		return 0, 0, err
	}
	defer pass.Close()
	c0, w0 := cpuSeconds(), time.Now()
	left := int64(0)
	for _, off := range end {
		left += off
	}
	for left > 0 {
		fs := pass.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			left--
			pass.Produce(ctx, &kgo.Record{Topic: out, Key: r.Key, Value: r.Value, Headers: r.Headers}, nil)
		})
	}
	if err := pass.Flush(ctx); err != nil {
		return 0, 0, err
	}
	return time.Since(w0), cpuSeconds() - c0, nil
}
