package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// proc is one `telekernel stage detect` process.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *testenv.LogBuffer
	done chan error
}

// owned returns the input partitions the process holds, from its logs.
func (p *proc) owned() map[int32]bool {
	own := map[int32]bool{}
	for _, line := range strings.Split(p.log.String(), "\n") {
		var l struct {
			Msg        string  `json:"msg"`
			Partitions []int32 `json:"partitions"`
		}
		if json.Unmarshal([]byte(line), &l) != nil {
			continue
		}
		for _, x := range l.Partitions {
			switch l.Msg {
			case "partitions assigned":
				own[x] = true
			case "partitions revoked", "partitions lost":
				delete(own, x)
			}
		}
	}
	return own
}

func startStage(t *testing.T, bin, cfg, name string) *proc {
	t.Helper()
	return startStageOf(t, bin, "detect", cfg, name)
}

// startStageOf starts `telekernel stage STAGE -c CFG`.
func startStageOf(t *testing.T, bin, stage, cfg, name string) *proc {
	t.Helper()
	p := &proc{name: name, log: &testenv.LogBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, "stage", stage, "-c", cfg)
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("%s exited with %v:\n%s", p.name, err, tail(p.log.String(), 20))
		}
	case <-time.After(60 * time.Second):
		t.Errorf("%s did not stop within 60s after SIGTERM", p.name)
	}
}

func tail(s string, n int) string {
	lines := bytes.Split([]byte(s), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// restoredRecords sums the changelog records a process restored.
func restoredRecords(log string) int { return restoreCount(log, "records") }

// restoreCount sums the field (records restored, input records replayed)
// of the "restored partition state" lines of a JSON log.
func restoreCount(log, field string) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader([]byte(log)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	re := regexp.MustCompile(`"msg":"restored partition state".*"` + field + `":(\d+)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			v, _ := strconv.Atoi(m[1])
			n += v
		}
	}
	return n
}

func writeConfig(t *testing.T, dir, name, broker, prefix, detections string, id string, detect string) string {
	t.Helper()
	cfg := fmt.Sprintf(`kafka:
  brokers: [%s]
  session_timeout: 6s
topics:
  samples: chaos-%s.samples
  detections: %s
  dead_letters: chaos-%s.deadletters
  group_prefix: %s
inventory: {topic: chaos-%[2]s.inventory}
correlate: {topic: chaos-%[2]s.incidents, input: chaos-%[2]s.incidents.input}
http:
  listen: "off"
log:
  format: json
detect: {%[6]s}
`, broker, id, detections, id, prefix, detect)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestChaosExactlyOnce is the stage runtime's chaos test on real Kafka:
// about 1 M simulated samples with injected anomalies go through three
// detect processes; one is killed with SIGKILL mid-run, while it has a
// transaction open (produced, not committed), and a fourth joins later. The detections must be exactly those of a single process over the
// same input (same set, no duplicates, none missing), and the detector
// state at the end must be byte-identical to the single process's, which
// holds only if moved partitions continued from their restored state (the
// state counts every value a series has seen). The chaos processes score
// on two workers and the reference on one, so the same check covers the
// detect stage's parallel path under kills and handoffs.
func TestChaosExactlyOnce(t *testing.T) { chaosExactlyOnce(t, "workers: 2") }

// TestChaosCheckpointInterval is TestChaosExactlyOnce with the chaos
// processes checkpointing every 3 s (transaction.checkpoint_interval):
// between checkpoints transactions commit only detections and offsets, and
// a partition that moves is restored from its last checkpoint and replays
// the input since, so the same detections and state hold only if the
// replay rebuilds the state exactly and emits nothing. At the end one more
// tick goes through a fifth process with a checkpoint in every transaction
// (the default), which restores and replays every partition and then
// writes every series' state, as the reference does.
func TestChaosCheckpointInterval(t *testing.T) {
	chaosExactlyOnce(t, "workers: 2, transaction: {checkpoint_interval: 3s}")
}

// chaosExactlyOnce runs the chaos test with the chaos processes' detect
// section detect (flow-style YAML, without braces).
func chaosExactlyOnce(t *testing.T, detect string) {
	broker := testenv.Service(t, "TK_KAFKA")
	if testing.Short() {
		t.Skip("chaos test skipped in -short mode")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	idb := make([]byte, 4)
	_, _ = rand.Read(idb)
	id := hex.EncodeToString(idb)
	samples := "chaos-" + id + ".samples"
	// The chaos processes score on two workers (a message holds 8 ticks of
	// a device, 272 rows: the parallel path, outputs held past Process),
	// the reference on one: the same detections and state either way.
	chaosCfg := writeConfig(t, dir, "chaos.yaml", broker, "chaos-"+id, "chaos-"+id+".detections", id, detect)
	refCfg := writeConfig(t, dir, "ref.yaml", broker, "chaos-"+id+"-ref", "chaos-"+id+"-ref.detections", id, "workers: 1")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	kc := kafka.Config{Brokers: []string{broker}}
	cl, err := kafka.Connect(ctx, kc, kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const partitions = 12
	if err := kafka.EnsureTopics(ctx, cl,
		kafka.TopicSpec{Name: samples, Partitions: partitions},
		kafka.TopicSpec{Name: "chaos-" + id + ".detections", Partitions: 3},
		kafka.TopicSpec{Name: "chaos-" + id + "-ref.detections", Partitions: 3},
	); err != nil {
		t.Fatal(err)
	}

	// The input: 40 devices × 34 series × 736 ticks = 1,000,960 samples
	// and each device's target state (UP and its reason, once), with six
	// injected traffic faults and two flapping links.
	var faults []sim.Fault
	for i, dev := range []int{3, 7, 11, 19, 26, 33} {
		kind := sim.FaultTrafficSpike
		if i%2 == 1 {
			kind = sim.FaultTrafficDrop
		}
		faults = append(faults, sim.Fault{Device: sim.DeviceName(dev), Interface: "Ethernet2", Kind: kind,
			After: time.Duration(20+15*i) * time.Minute, Duration: 8 * time.Minute})
	}
	// Two flapping links, as state detections: one around the kill
	// (about tick 318), one around the fourth process's start (tick 496).
	for _, f := range []struct{ dev, after int }{{5, 50}, {29, 80}} {
		faults = append(faults, sim.Fault{Device: sim.DeviceName(f.dev), Interface: "Ethernet1", Kind: sim.FaultLinkFlap,
			After: time.Duration(f.after) * time.Minute, Duration: 6 * time.Minute})
	}
	fleet, err := sim.New(sim.Config{Devices: 40, Start: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := publish.New(cl, publish.Config{Topic: samples, MaxRows: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	const ticks = 736

	procs := []*proc{
		startStage(t, bin, chaosCfg, "p1"), startStage(t, bin, chaosCfg, "p2"), startStage(t, bin, chaosCfg, "p3"),
	}
	start := time.Now()
	changelog := "chaos-" + id + "-detect-changelog"
	// From 6 s on, SIGKILL p1 while one of its changelog partitions
	// holds an open transaction (high watermark above the last stable
	// offset): killed between produce and commit.
	killedMidTxn := killMidTransaction(ctx, cl, procs[0], changelog, 6*time.Second)
	// Spread the input over about 15 s so the processes are mid-stream
	// when one dies and another joins.
	publishPaced(ctx, t, fleet, pub, ticks, 8, 20*time.Millisecond, 10*time.Second, func(tick int) {
		procs = append(procs, startStage(t, bin, chaosCfg, "p4"))
		t.Logf("started p4 at %v (tick %d)", time.Since(start).Round(time.Millisecond), tick)
	})
	mid := <-killedMidTxn
	<-procs[0].done
	t.Logf("SIGKILLed p1 inside an open transaction: %v", mid)
	if !mid {
		t.Error("p1 had no open transaction to kill within 15 s")
	}
	if st := pub.Stats(); st.Samples != 40*34*ticks {
		t.Fatalf("published %d samples, want %d", st.Samples, 40*34*ticks)
	}
	waitCaughtUp(ctx, t, cl, "chaos-"+id+"-detect", samples)
	t.Logf("chaos run caught up at %v", time.Since(start).Round(time.Millisecond))
	for _, p := range procs[1:] {
		p.stop(t)
	}
	if strings.Contains(detect, "checkpoint_interval") {
		publishPaced(ctx, t, fleet, pub, 1, 1, 0, time.Hour, func(int) {})
		last := startStage(t, bin, writeConfig(t, dir, "last.yaml", broker, "chaos-"+id, "chaos-"+id+".detections", id, "workers: 2"), "p5")
		waitCaughtUp(ctx, t, cl, "chaos-"+id+"-detect", samples)
		last.stop(t)
		procs = append(procs, last)
		replayed := 0
		for _, p := range procs[1:] {
			replayed += restoreCount(p.log.String(), "replayed")
		}
		if replayed == 0 {
			t.Error("no process replayed input since a checkpoint")
		}
		t.Logf("%d input records replayed since checkpoints", replayed)
	}

	// The reference: one process over the same input.
	ref := startStage(t, bin, refCfg, "ref")
	waitCaughtUp(ctx, t, cl, "chaos-"+id+"-ref-detect", samples)
	ref.stop(t)

	got := readAll(ctx, t, broker, "chaos-"+id+".detections")
	want := readAll(ctx, t, broker, "chaos-"+id+"-ref.detections")
	gotDet, dups := detectionSet(t, got)
	wantDet, _ := detectionSet(t, want)
	if dups > 0 {
		t.Errorf("the chaos run emitted %d duplicate detections", dups)
	}
	if len(wantDet) < 2*len(faults) {
		t.Errorf("the reference run emitted %d detections for %d faults", len(wantDet), len(faults))
	}
	flapping := 0
	for _, d := range wantDet {
		if strings.Contains(d, `"detector":"flapping"`) {
			flapping++
		}
	}
	if flapping != 4 { // each link: fired (or updated) and resolved
		t.Errorf("the reference run emitted %d flapping detections, want 4", flapping)
	}
	compareDetections(t, "chaos", gotDet, wantDet)

	// Final state per series, from the changelogs: identical only if every
	// partition that moved continued from its restored state.
	gotState := lastByKey(readAll(ctx, t, broker, "chaos-"+id+"-detect-changelog"))
	wantState := lastByKey(readAll(ctx, t, broker, "chaos-"+id+"-ref-detect-changelog"))
	// 40 devices × (30 counter and gauge series + 4 oper-status + the
	// collector's target state and its reason, published once as UP).
	if len(wantState) != 40*36 {
		t.Errorf("reference changelog holds %d series, want %d", len(wantState), 40*36)
	}
	diff := 0
	for k, v := range wantState {
		if !bytes.Equal(gotState[k], v) {
			diff++
		}
	}
	if diff > 0 || len(gotState) != len(wantState) {
		t.Errorf("final state differs for %d of %d series (chaos run holds %d)", diff, len(wantState), len(gotState))
	}
	// The kill left an aborted transaction behind: its records are in the
	// log but invisible to read-committed readers, which saw no duplicate.
	uncommitted := len(readAllIsolation(ctx, t, broker, changelog, kgo.ReadUncommitted()))
	committed := len(readAll(ctx, t, broker, changelog))
	if uncommitted <= committed {
		t.Errorf("no aborted transaction in %s (%d records read uncommitted, %d committed): the kill did not land between produce and commit", changelog, uncommitted, committed)
	}
	t.Logf("%d changelog records of aborted transactions hidden from read-committed readers", uncommitted-committed)
	restored := 0
	for _, p := range procs[1:] {
		restored += restoredRecords(p.log.String())
	}
	if restored == 0 {
		t.Errorf("no process restored any state: no partition moved with its state")
	}
	t.Logf("%d detections, identical to the single-process run; %d series' final state identical; %d state records restored after handoffs",
		len(gotDet), len(wantState), restored)
}

// killMidTransaction SIGKILLs p, after wait, while one of its changelog
// partitions holds an open transaction (high watermark above the last
// stable offset): killed between produce and commit. Seeing the open
// transaction and killing are not one step (p could commit in between,
// leaving nothing to abort), so p is first stopped (SIGSTOP), requests it
// had in flight are given 300 ms to settle, and the transaction must
// still be open before the kill; otherwise p continues (SIGCONT) and the
// watch goes on. It gives up after 15 s more and kills p anyway; the
// channel says whether the kill landed inside a transaction.
func killMidTransaction(ctx context.Context, cl *kgo.Client, p *proc, changelog string, wait time.Duration) <-chan bool {
	killed := make(chan bool, 1)
	go func() {
		time.Sleep(wait)
		adm := kadm.NewClient(cl)
		open := func() bool {
			own := p.owned()
			hwm, err1 := adm.ListEndOffsets(ctx, changelog)
			lso, err2 := adm.ListCommittedOffsets(ctx, changelog)
			found := false
			if err1 == nil && err2 == nil {
				hwm.Each(func(o kadm.ListedOffset) {
					if l, ok := lso.Lookup(changelog, o.Partition); ok && own[o.Partition] && o.Offset > l.Offset {
						found = true
					}
				})
			}
			return found
		}
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
			if !open() {
				continue
			}
			_ = p.cmd.Process.Signal(syscall.SIGSTOP)
			time.Sleep(300 * time.Millisecond)
			if open() {
				_ = p.cmd.Process.Signal(syscall.SIGKILL)
				killed <- true
				return
			}
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
		}
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		killed <- false
	}()
	return killed
}

// compareDetections reports every detection (from detectionSet) missing
// from got, extra in it, or different from want's.
func compareDetections(t *testing.T, run string, got, want map[string]string) {
	t.Helper()
	for id, d := range want {
		if g, ok := got[id]; !ok {
			t.Errorf("missing from the %s run: %s", run, d)
		} else if g != d {
			t.Errorf("differs:\n %s %s\n   ref %s", run, g, d)
		}
	}
	for id, d := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("extra in the %s run: %s", run, d)
		}
	}
}

// built is the telekernel binary the tests run, built once per test
// binary (a build costs 5-8 s of CPU even with the build cache warm) into
// a folder TestMain removes.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// buildBinary returns the path of telekernel built from this package,
// building it on the first call. Tests only run it: none writes next to
// it, so one build serves them all, in parallel too.
func buildBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "telekernel-bin-")
		if built.err != nil {
			return
		}
		bin := filepath.Join(built.dir, "telekernel")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		built.bin = bin
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// removeBinary removes the folder of the binary buildBinary built, if any.
func removeBinary() {
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
}

// waitCaughtUp waits until group has committed the end offsets of topic.
func waitCaughtUp(ctx context.Context, t *testing.T, cl *kgo.Client, group, topic string) {
	t.Helper()
	adm := kadm.NewClient(cl)
	for {
		end, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			committed, ferr := adm.FetchOffsets(ctx, group)
			if ferr == nil {
				behind := int64(0)
				end.Each(func(o kadm.ListedOffset) {
					c, ok := committed.Lookup(topic, o.Partition)
					if !ok {
						behind += o.Offset
						return
					}
					behind += max(0, o.Offset-c.At)
				})
				if behind == 0 {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("group %s did not catch up on %s: %v", group, topic, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// readAll reads every committed record of topic.
func readAll(ctx context.Context, t *testing.T, broker, topic string) []*kgo.Record {
	t.Helper()
	return readAllIsolation(ctx, t, broker, topic, kgo.ReadCommitted())
}

// readAllIsolation reads every record of topic visible at level.
func readAllIsolation(ctx context.Context, t *testing.T, broker, topic string, level kgo.IsolationLevel) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics(topic), kgo.KeepControlRecords(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(level))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	lo, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) { end[o.Partition] = o.Offset })
	seen := map[int32]int64{}
	var out []*kgo.Record
	for {
		caught := true
		for p, e := range end {
			if seen[p] < e {
				caught = false
			}
		}
		if caught {
			return out
		}
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v", topic, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			seen[r.Partition] = r.Offset + 1
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
		})
	}
}

// detectionSet maps detection ids to their JSON without the wall-clock
// detectedAt, and counts ids seen more than once.
func detectionSet(t *testing.T, recs []*kgo.Record) (map[string]string, int) {
	t.Helper()
	out, dups := map[string]string{}, 0
	for _, r := range recs {
		var d schemas.Detection
		if err := json.Unmarshal(r.Value, &d); err != nil {
			t.Fatal(err)
		}
		d.DetectedAt = time.Time{}
		b, _ := json.Marshal(d)
		if _, ok := out[d.ID]; ok {
			dups++
		}
		out[d.ID] = string(b)
	}
	return out, dups
}

func lastByKey(recs []*kgo.Record) map[string][]byte {
	out := map[string][]byte{}
	for _, r := range recs {
		if string(r.Key) != pipeline.CheckpointKey { // the input offset of a partition's checkpoint
			out[string(r.Key)] = r.Value
		}
	}
	return out
}
