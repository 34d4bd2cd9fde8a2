// Command collectors benchmarks the collectors end to end on a real Kafka.
//
// gnmi: a simulated fleet in a child process (gNMI servers on 127.0.0.1)
// streams to the gNMI collector in this process, which publishes Arrow
// batches to a fresh samples topic. It prints gNMI updates per second of
// wall time and per CPU-second of this process (the collector, decoding,
// Arrow, IPC encoding and the Kafka producer), next to the rate of a plain
// proto.Unmarshal of the same SubscribeResponses into the gNMI message
// types, measured in the same run. The collector runs as deploy/ runs it
// (one core, GOGC 50, max_rows 2048; --gomaxprocs, --gogc and --max-rows
// change that), and the output says so.
//
//	go run ./benchmarks/collectors gnmi --kafka 127.0.0.1:9092 --devices 20 --steps 3000
//
// snmp: a child process answers SNMP v2c for many simulated devices (one
// UDP socket, the community names the device); this process polls them all
// with the SNMP collector on one core (GOMAXPROCS=1) and prints targets ×
// OIDs per second, OIDs per CPU-second, and whether every poll started on
// time (no late polls: the collector held that many targets at that
// interval).
//
//	go run ./benchmarks/collectors snmp --kafka 127.0.0.1:9092 --devices 2000 --interval 10s --for 30s
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/telekernel/telekernel/benchmarks/internal/benchkit"
	"github.com/telekernel/telekernel/collectors"
	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/collectors/sim/agent"
	"github.com/telekernel/telekernel/collectors/snmp"
	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

type flags struct {
	kafka                string
	devices, ifaces      int
	steps                int
	interval, dur        time.Duration
	workers              int
	serve                string // child mode
	whole                bool
	snmpResponderWorkers int
	maxBuffered          int
	producerBatch        int
	compression          string
	maxRows              int
	heapProfile          string
	cpuProfile           string
	procs, gogc          int
	memProfileRate       int
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: collectors (gnmi|snmp) [flags]")
		os.Exit(2)
	}
	mode := os.Args[1]
	var f flags
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	fs.StringVar(&f.kafka, "kafka", benchkit.EnvOr("TK_KAFKA", "127.0.0.1:9092"), "Kafka bootstrap address")
	fs.IntVar(&f.devices, "devices", 20, "simulated devices")
	fs.IntVar(&f.ifaces, "interfaces", 16, "interfaces per device")
	fs.IntVar(&f.steps, "steps", 2000, "gnmi: fleet steps to stream")
	fs.BoolVar(&f.whole, "whole-device", false, "gnmi: one notification per device and step instead of one per interface/component")
	fs.DurationVar(&f.interval, "interval", 10*time.Second, "snmp: poll interval per target")
	fs.DurationVar(&f.dur, "for", 30*time.Second, "snmp: how long to poll")
	fs.IntVar(&f.workers, "workers", 64, "snmp: collector workers (polls in flight)")
	fs.IntVar(&f.snmpResponderWorkers, "responder-workers", 2, "snmp: goroutines answering in the child")
	fs.IntVar(&f.maxBuffered, "max-buffered-bytes", collectors.DefaultMaxBufferedBytes, "gnmi, snmp: the producer's max_buffered_bytes (the collector's default)")
	fs.StringVar(&f.compression, "compression", "", "gnmi: the producer's batch compression, none, snappy, lz4 or zstd (default: the collector's, franz-go's snappy)")
	fs.IntVar(&f.producerBatch, "producer-batch-bytes", 1_000_012, "gnmi: the producer's batch limit (the collector's default: franz-go's)")
	fs.IntVar(&f.maxRows, "max-rows", deployMaxRows, "gnmi: a target's batch size in samples (default deploy/'s collect-gnmi.yaml max_rows; 0: the collector's default)")
	fs.StringVar(&f.heapProfile, "heap-profile", "", "gnmi: write a heap profile taken at the largest live heap of the run to this file")
	fs.IntVar(&f.procs, "gomaxprocs", deployProcs, "gnmi: the collector's cores (GOMAXPROCS, at least 1; default deploy/'s collector: one core; the environment's GOMAXPROCS does not change it)")
	fs.IntVar(&f.gogc, "gogc", deployGOGC, "gnmi: the collector's GOGC (at least 1; default deploy/'s collector setting; the environment's GOGC does not change it)")
	fs.StringVar(&f.cpuProfile, "cpu-profile", "", "gnmi: write a CPU profile of the collector while streaming to this file")
	fs.IntVar(&f.memProfileRate, "mem-profile-rate", runtime.MemProfileRate, "gnmi: bytes allocated per heap profile sample (runtime.MemProfileRate; smaller is finer and slower)")
	fs.StringVar(&f.serve, "serve", "", "internal: run as the simulator child")
	_ = fs.Parse(os.Args[2:])
	runtime.MemProfileRate = f.memProfileRate
	var err error
	switch {
	case f.serve == "gnmi":
		err = serveGNMI(f)
	case f.serve == "snmp":
		err = serveSNMP(f)
	case mode == "gnmi":
		err = benchGNMI(f)
	case mode == "snmp":
		err = benchSNMP(f)
	default:
		err = fmt.Errorf("unknown mode %q (gnmi or snmp)", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "collectors benchmark:", err)
		os.Exit(1)
	}
}

// deployProcs and deployGOGC are the Go runtime settings deploy/ gives a
// gNMI collector process (the Kubernetes Deployment's GOMAXPROCS and GOGC,
// the systemd unit's GOMAXPROCS and its gnmi drop-in's GOGC), deployMaxRows
// the max_rows of its collect-gnmi.yaml (the ConfigMap's and
// deploy/examples'): TestDeploySettings checks they agree, so the gnmi run
// measures the collector as deployed.
const (
	deployProcs   = 1
	deployGOGC    = 50
	deployMaxRows = 2048
)

// cfgRows returns the max_rows the collector runs with for the flag value n.
func cfgRows(n int) int {
	if n == 0 {
		return gnmi.DefaultMaxRows
	}
	return n
}

// peakRSS returns the largest resident set size this process has had, in
// bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss << 10 // kilobytes on Linux
}

func mbOf(b uint64) float64 { return float64(b) / (1 << 20) }

// gcCycles returns the number of GC cycles completed so far.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// cpuSeconds returns the CPU-seconds this process has used so far.
func cpuSeconds() float64 { return benchkit.CPU().Seconds() }

func newFleet(f flags) (*sim.Fleet, error) {
	return sim.New(sim.Config{Devices: f.devices, Interfaces: f.ifaces, Interval: time.Second,
		Start: time.Now().Add(-time.Duration(f.steps+10) * time.Second).Truncate(time.Second), Faults: []sim.Fault{}})
}

// childProc is this program running in serve mode: its stdout lines, its
// stdin, and the first line it printed.
type childProc struct {
	cmd   *exec.Cmd
	out   *bufio.Scanner
	in    io.WriteCloser
	first []byte
}

// child starts this program in serve mode and reads the first line it
// prints (what names that line, for the error when there is none). The
// caller stops it.
func child(f flags, mode, what string) (*childProc, error) {
	args := []string{mode, "--serve", mode, "--devices", fmt.Sprint(f.devices), "--interfaces", fmt.Sprint(f.ifaces),
		"--steps", fmt.Sprint(f.steps), "--responder-workers", fmt.Sprint(f.snmpResponderWorkers), fmt.Sprintf("--whole-device=%v", f.whole)}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &childProc{cmd: cmd, out: bufio.NewScanner(out), in: in}
	if !c.out.Scan() {
		c.stop()
		return nil, fmt.Errorf("the %s child printed no %s", mode, what)
	}
	c.first = c.out.Bytes()
	return c, nil
}

// stop closes the child's stdin, which ends it, and waits for it.
func (c *childProc) stop() { c.in.Close(); _ = c.cmd.Wait() }

// serveGNMI is the child: it serves the fleet, prints the targets as JSON,
// steps the fleet as fast as the collector takes it once a line arrives on
// stdin, and exits when stdin closes.
func serveGNMI(f flags) error {
	fleet, err := newFleet(f)
	if err != nil {
		return err
	}
	a, err := agent.New(agent.Config{QueueTicks: 8, WholeDevice: f.whole}, fleet)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := json.NewEncoder(os.Stdout).Encode(a.Targets()); err != nil {
		return err
	}
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() {
		return nil
	}
	ctx := context.Background()
	for range f.steps {
		if _, err := a.Step(ctx); err != nil {
			return err
		}
	}
	fmt.Println("done", a.Stats().Updates)
	in.Scan() // until the parent closes stdin
	return nil
}

// openPublisher connects to Kafka with the benchmark's producer options
// (and extra), creates a fresh 6-partition samples topic named after mode,
// and returns the client (the caller closes it) and a publisher to it.
func openPublisher(ctx context.Context, f flags, mode string, extra ...kgo.Opt) (*kgo.Client, *publish.Publisher, error) {
	topic := fmt.Sprintf("tk.samples.bench-%s-%d", mode, time.Now().UnixNano())
	kc := kafka.Config{Brokers: []string{f.kafka}}
	cl, err := kafka.Connect(ctx, kc, append([]kgo.Opt{kgo.MaxBufferedBytes(f.maxBuffered), kgo.ProducerLinger(5 * time.Millisecond)}, extra...)...)
	if err != nil {
		return nil, nil, err
	}
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: topic, Partitions: 6}); err != nil {
		cl.Close()
		return nil, nil, err
	}
	pub, err := publish.New(cl, publish.Config{Topic: topic})
	if err != nil {
		cl.Close()
		return nil, nil, err
	}
	return cl, pub, nil
}

// gnmiRun is what the end-to-end gNMI run measured.
type gnmiRun struct {
	cpu, wall float64 // CPU-seconds of this process, wall seconds
	st        gnmi.Stats
	ps        publish.Stats
	peak      memAt  // the memory at the largest RSS while streaming
	gcs       uint64 // GC cycles while streaming
}

func benchGNMI(f flags) error {
	// The collector runs as deploy/ runs it; the simulator child runs with
	// the environment's settings.
	if f.procs < 1 || f.gogc < 1 {
		return fmt.Errorf("cannot run with --gomaxprocs %d --gogc %d: both must be at least 1", f.procs, f.gogc)
	}
	runtime.GOMAXPROCS(f.procs)
	debug.SetGCPercent(f.gogc)
	ch, err := child(f, "gnmi", "targets")
	if err != nil {
		return err
	}
	defer ch.stop()
	var targets []agent.Target
	if err := json.Unmarshal(ch.first, &targets); err != nil {
		return err
	}
	r, err := runGNMI(f, targets, ch.in)
	if err != nil {
		return err
	}
	// Read before the baseline, which builds a fleet of its own here.
	peak := peakRSS()
	// The baseline, on the same responses: record one step's responses
	// from an in-process copy of the fleet.
	resps, err := recordResponses(f)
	if err != nil {
		return err
	}
	ups := 0
	size := 0
	for _, r := range resps {
		var m pb.SubscribeResponse
		_ = proto.Unmarshal(r, &m)
		ups += len(m.GetUpdate().GetUpdate())
		size += len(r)
	}
	unmarshalCPU, decodeCPU, err := baselineGNMI(resps, ups)
	if err != nil {
		return err
	}

	fmt.Printf("gnmi end to end: %d devices × %d interfaces, %d steps, %.1f updates per response, %d B per response\n",
		f.devices, f.ifaces, f.steps, float64(ups)/float64(len(resps)), size/len(resps))
	fmt.Printf("  collector: %d updates, %d samples to Kafka (%d batches) in %.2fs wall, %.2f CPU-s of the collector process\n",
		r.st.Updates, r.ps.Samples, r.ps.Batches, r.wall, r.cpu)
	fmt.Printf("  end to end: %.0f updates/s wall, %.0f updates per CPU-second (%.2f µs/update)\n",
		float64(r.st.Updates)/r.wall, float64(r.st.Updates)/r.cpu, r.cpu/float64(r.st.Updates)*1e6)
	fmt.Printf("  collector process peak RSS: %.1f MB (VmHWM before the baseline ran; GOMAXPROCS %d, GOGC %d, GOMEMLIMIT %s, max_rows %d, max_buffered_bytes %d)\n",
		float64(peak)/(1<<20), runtime.GOMAXPROCS(0), f.gogc, benchkit.EnvOr("GOMEMLIMIT", "default"), cfgRows(f.maxRows), f.maxBuffered)
	fmt.Printf("  at the largest RSS while streaming: %v; %d GC cycles while streaming\n", r.peak, r.gcs)
	fmt.Printf("  baseline proto.Unmarshal of the same responses (same GOMAXPROCS and GOGC): %.0f updates per CPU-second (%.2f µs/update)\n",
		unmarshalCPU, 1e6/unmarshalCPU)
	fmt.Printf("  decoder alone (wire → Arrow builders): %.0f updates per CPU-second (%.2f µs/update)\n", decodeCPU, 1e6/decodeCPU)
	fmt.Printf("  ratio end to end / plain unmarshal: %.2f\n", float64(r.st.Updates)/r.cpu/unmarshalCPU)
	return nil
}

// runGNMI runs the gNMI collector on the child's targets into a fresh
// topic, tells the child (through in) to stream once every target is
// connected, and measures until every update of the run has arrived and
// Kafka acknowledged every sample.
func runGNMI(f flags, targets []agent.Target, in io.Writer) (gnmiRun, error) {
	ctx := context.Background()
	fleet, _ := newFleet(f)
	perStep := uint64(f.devices * fleet.SeriesPerDevice())
	total := perStep * uint64(f.steps)
	opts := []kgo.Opt{kgo.ProducerBatchMaxBytes(int32(f.producerBatch))}
	if f.compression != "" {
		c, ok := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "snappy": kgo.SnappyCompression(),
			"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}[f.compression]
		if !ok {
			return gnmiRun{}, fmt.Errorf("cannot use --compression %q: none, snappy, lz4 or zstd", f.compression)
		}
		opts = append(opts, kgo.ProducerBatchCompression(c))
	}
	cl, pub, err := openPublisher(ctx, f, "gnmi", opts...)
	if err != nil {
		return gnmiRun{}, err
	}
	defer cl.Close()
	var gt []gnmi.Target
	for _, t := range targets {
		gt = append(gt, gnmi.Target{Name: t.Name, Address: t.Addr})
	}
	// Sample every leaf at the fleet's step, so each step is one update per series.
	cfg := gnmi.Config{Targets: gt, Subscriptions: []gnmi.Subscription{{Name: "all", Paths: []string{"/"}, SampleInterval: time.Second}},
		MaxRows: f.maxRows}
	c, err := gnmi.New(cfg, pub, gnmi.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return gnmiRun{}, err
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(rctx) }()
	stop := func(err error) (gnmiRun, error) {
		cancel()
		<-done
		return gnmiRun{}, err
	}
	for t0 := time.Now(); c.Stats().Connects < uint64(len(gt)); time.Sleep(10 * time.Millisecond) {
		if time.Since(t0) > 30*time.Second {
			return stop(fmt.Errorf("only %d of %d targets connected in 30s", c.Stats().Connects, len(gt)))
		}
	}
	runtime.GC()
	fmt.Fprintf(os.Stderr, "peak RSS before streaming: %.1f MB\n", float64(peakRSS())/(1<<20))
	mw := watchMem(f.heapProfile != "")
	stopProfile, err := benchkit.StartCPUProfile(f.cpuProfile)
	if err != nil {
		return stop(err)
	}
	defer stopProfile()
	gc0 := gcCycles()
	cpu0, wall0 := cpuSeconds(), time.Now()
	fmt.Fprintln(in, "go")
	// Wait for every update; fail with the counts if progress stops.
	last, lastMove := uint64(0), time.Now()
	for c.Stats().Updates < total {
		time.Sleep(2 * time.Millisecond)
		if u := c.Stats().Updates; u != last {
			last, lastMove = u, time.Now()
		} else if time.Since(lastMove) > 15*time.Second {
			return stop(fmt.Errorf("no progress for 15s at %d of %d updates (collector %+v, publisher %+v)", u, total, c.Stats(), pub.Stats()))
		}
	}
	cancel()
	if err := <-done; err != nil {
		return gnmiRun{}, err
	}
	r := gnmiRun{cpu: cpuSeconds() - cpu0, wall: time.Since(wall0).Seconds(), st: c.Stats(), ps: pub.Stats(),
		peak: mw.end(), gcs: gcCycles() - gc0}
	if f.heapProfile != "" {
		if err := mw.writeProfile(f.heapProfile); err != nil {
			return gnmiRun{}, err
		}
		fmt.Fprintf(os.Stderr, "heap profile at the largest live heap (%.1f MB) in %s\n", mbOf(mw.maxLive), f.heapProfile)
	}
	if r.ps.Samples < int64(total) {
		return gnmiRun{}, fmt.Errorf("kafka acknowledged %d samples, want at least %d", r.ps.Samples, total)
	}
	return r, nil
}

// baselineGNMI returns the updates per CPU-second of a plain
// proto.Unmarshal of resps (holding ups updates) and of the gNMI decoder
// alone, each run for about a second.
func baselineGNMI(resps [][]byte, ups int) (unmarshalCPU, decodeCPU float64, err error) {
	rate := func(fn func([]byte)) (float64, float64) {
		n := 0
		c0, t0 := cpuSeconds(), time.Now()
		for time.Since(t0) < time.Second {
			for _, r := range resps {
				fn(r)
			}
			n++
		}
		return float64(n*ups) / time.Since(t0).Seconds(), float64(n*ups) / (cpuSeconds() - c0)
	}
	_, unmarshalCPU = rate(func(b []byte) {
		var m pb.SubscribeResponse
		_ = proto.Unmarshal(b, &m)
	})
	batch := publish.NewBatch(memory.NewGoAllocator(), "bench", schemas.SourceGNMI)
	dec, err := gnmi.NewDecoder(batch, gnmi.DecoderConfig{Dedup: new(false)})
	if err != nil {
		return 0, 0, err
	}
	_, decodeCPU = rate(func(b []byte) {
		_, _ = dec.Decode(b, 0)
		if batch.Len() >= 4096 {
			batch.NewRecord().Release()
		}
	})
	return unmarshalCPU, decodeCPU, nil
}

// recordResponses subscribes to an in-process copy of the fleet and
// returns the raw SubscribeResponses of a few steps.
func recordResponses(f flags) ([][]byte, error) {
	fleet, err := newFleet(f)
	if err != nil {
		return nil, err
	}
	a, err := agent.New(agent.Config{WholeDevice: f.whole}, fleet)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	ctx := context.Background()
	cc, err := grpc.NewClient(a.Targets()[0].Addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(gnmi.Codec{})))
	if err != nil {
		return nil, err
	}
	defer cc.Close()
	st, err := cc.NewStream(ctx, &pb.GNMI_ServiceDesc.Streams[0], pb.GNMI_Subscribe_FullMethodName)
	if err != nil {
		return nil, err
	}
	path, _ := gnmi.ParsePath("/")
	req := &pb.SubscribeRequest{Request: &pb.SubscribeRequest_Subscribe{Subscribe: &pb.SubscriptionList{
		Subscription: []*pb.Subscription{{Path: path, Mode: pb.SubscriptionMode_SAMPLE}}}}}
	if err := st.SendMsg(req); err != nil {
		return nil, err
	}
	var m gnmi.RawMessage
	if err := st.RecvMsg(&m); err != nil { // the sync
		return nil, err
	}
	const steps = 5
	for range steps {
		if _, err := a.Step(ctx); err != nil {
			return nil, err
		}
	}
	var out [][]byte
	want := steps * fleet.SeriesPerDevice()
	got := 0
	for got < want {
		var m gnmi.RawMessage
		if err := st.RecvMsg(&m); err != nil {
			return nil, err
		}
		var r pb.SubscribeResponse
		_ = proto.Unmarshal(m.B, &r)
		got += len(r.GetUpdate().GetUpdate())
		out = append(out, m.B)
	}
	return out, nil
}

// serveSNMP is the child of the snmp benchmark: it answers SNMP for the
// fleet (stepped once a second) until stdin closes.
func serveSNMP(f flags) error {
	fleet, err := newFleet(f)
	if err != nil {
		return err
	}
	a, err := agent.New(agent.Config{}, fleet)
	if err != nil {
		return err
	}
	defer a.Close()
	s, err := a.ServeSNMP("127.0.0.1:0", f.snmpResponderWorkers)
	if err != nil {
		return err
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := a.Step(ctx); err != nil {
		return err
	}
	go func() { _ = a.Run(ctx, 1, 0) }()
	fmt.Println(s.Addr())
	in := bufio.NewScanner(os.Stdin)
	in.Scan()
	req, vb := s.Served()
	fmt.Println(req, vb)
	return nil
}

func benchSNMP(f flags) error {
	runtime.GOMAXPROCS(1)
	ctx := context.Background()
	ch, err := child(f, "snmp", "address")
	if err != nil {
		return err
	}
	defer ch.stop()
	addr := string(ch.first)
	cl, pub, err := openPublisher(ctx, f, "snmp")
	if err != nil {
		return err
	}
	defer cl.Close()
	var targets []snmp.Target
	for i := range f.devices {
		name := sim.DeviceName(i)
		env := "TK_BENCH_COMMUNITY_" + fmt.Sprint(i)
		os.Setenv(env, name)
		targets = append(targets, snmp.Target{Name: name, Address: addr, Community: secret.Source{Env: env},
			Interval: f.interval, Timeout: 2 * time.Second, Retries: 1})
	}
	c, err := snmp.New(snmp.Config{Targets: targets, Workers: f.workers}, pub, snmp.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, f.dur)
	defer cancel()
	cpu0, wall0 := cpuSeconds(), time.Now()
	if err := c.Run(rctx); err != nil {
		return err
	}
	cpu, wall := cpuSeconds()-cpu0, time.Since(wall0).Seconds()
	st := c.Stats()
	fmt.Fprintln(ch.in, "stop")
	ch.out.Scan()
	fmt.Printf("snmp: %d targets × %v interval, %d workers, collector on one core (GOMAXPROCS=1), %.0fs\n", f.devices, f.interval, f.workers, wall)
	fmt.Printf("  polls %d (%.0f/s), failed %d, late %d; OIDs %d: %.0f OIDs/s wall, %.0f OIDs per CPU-second; %d samples to Kafka (%.0f/s)\n",
		st.Polls, float64(st.Polls)/wall, st.Failures, st.Late, st.OIDs, float64(st.OIDs)/wall, float64(st.OIDs)/cpu, pub.Stats().Samples, float64(pub.Stats().Samples)/wall)
	fmt.Printf("  collector CPU %.2fs of %.0fs (%.0f%% of one core); OIDs per poll %.0f\n", cpu, wall, 100*cpu/wall, float64(st.OIDs)/math.Max(1, float64(st.Polls)))
	return nil
}
