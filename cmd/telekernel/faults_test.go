package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/clickhouse"
	"github.com/telekernel/telekernel/sinks/parquet"
)

// faultOutage is how long the broker stays down in the fault suite: 60 s,
// or TK_FAULT_OUTAGE.
func faultOutage(t *testing.T) time.Duration {
	if v := os.Getenv("TK_FAULT_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("TK_FAULT_OUTAGE: %v", err)
		}
		return d
	}
	return 60 * time.Second
}

// ownKafka is a Kafka broker of this test alone, started with
// deploy/local/kafka.sh on free ports with its own data folder, so it can
// be restarted, killed and stopped without touching the shared broker.
type ownKafka struct {
	addr string
	env  []string
	dir  string
}

func startOwnKafka(t *testing.T) *ownKafka {
	t.Helper()
	dir := t.TempDir()
	port, ctl, sasl := testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)
	k := &ownKafka{addr: fmt.Sprintf("127.0.0.1:%d", port), dir: dir,
		env: append(os.Environ(), "TK_LOCAL_DIR="+dir, "TK_KAFKA_PORT="+strconv.Itoa(port), "TK_KAFKA_CONTROLLER_PORT="+strconv.Itoa(ctl),
			"TK_KAFKA_SASL_PORT="+strconv.Itoa(sasl),
			"TK_KAFKA_PARTITIONS=3", "TK_KAFKA_HEAP_OPTS=-Xms128m -Xmx512m", "TK_KAFKA_CLEANER_BUFFER=16777216")}
	k.script(t, "start")
	t.Cleanup(func() { k.script(t, "stop") })
	return k
}

// script runs deploy/local/kafka.sh CMD for this broker.
func (k *ownKafka) script(t *testing.T, cmd string) {
	t.Helper()
	start := time.Now()
	c := exec.Command("bash", "../../deploy/local/kafka.sh", cmd)
	c.Env = k.env
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("kafka.sh %s: %v\n%s", cmd, err, out)
	}
	t.Logf("own broker: %s took %v", cmd, time.Since(start).Round(100*time.Millisecond))
}

// kill SIGKILLs the broker process.
func (k *ownKafka) kill(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(k.dir, "kafka", "kafka.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	t.Log("own broker: SIGKILLed")
}

// injectFaults restarts the broker gracefully at 15 s after start,
// SIGKILLs and restarts it at 40 s, and stops it for outage at 70 s. The
// simulator publishes for about 100 s, so the outage spans its end: the
// source must wait for the broker rather than lose samples, and the stage
// members, which lost their partitions (6 s sessions) and whose
// transactions failed, must not count as drained until they have them
// back and finish.
func (k *ownKafka) injectFaults(t *testing.T, start time.Time, outage time.Duration) {
	t.Helper()
	at := func(d time.Duration, what string) {
		time.Sleep(time.Until(start.Add(d)))
		t.Logf("%v: %s", time.Since(start).Round(time.Second), what)
	}
	at(15*time.Second, "graceful broker restart")
	k.script(t, "stop")
	k.script(t, "start")
	at(40*time.Second, "broker SIGKILL")
	k.kill(t)
	k.script(t, "start")
	at(70*time.Second, fmt.Sprintf("broker outage of %v", outage))
	k.script(t, "stop")
	time.Sleep(outage)
	k.script(t, "start")
}

// faultConfig writes a `telekernel run` config on the given broker, with
// its own topics, groups, ClickHouse database and Parquet folder.
func faultConfig(t *testing.T, dir, name, broker, ch string, speed string) (path, db, root string) {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := name + "_" + hex.EncodeToString(b)
	db, root = "tk_faults_"+id, filepath.Join(dir, name+"-data")
	cfg := fmt.Sprintf(`stages: [detect, parquet, clickhouse, power, maintain]
kafka:
  brokers: [%s]
  session_timeout: 6s # shorter than the outage: members lose their partitions
topics:
  samples: %[2]s.samples
  detections: %[2]s.detections
  dead_letters: %[2]s.deadletters
  power: %[2]s.power
  maintenance: %[2]s.maintenance
  alert_state: %[2]s.alerts
  group_prefix: %[2]s
  partitions: 3
inventory: {topic: %[2]s.inventory}
correlate: {topic: %[2]s.incidents, input: %[2]s.incidents.input}
sim:
  devices: %[7]d
  start: 2026-11-02T00:00:00Z
  span: 8h
  speed: %[3]s
  labels_file: %[4]s/labels.jsonl
parquet:
  root: %[4]s
  flush_interval: 2s
clickhouse:
  addr: [%[5]s]
  database: %[6]s
http:
  listen: "off"
log:
  format: json
`, broker, id, speed, root, ch, db, faultDevices)
	path = filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, db, root
}

var summaryRe = regexp.MustCompile(`telekernel: (\d+) samples in`)

// TestBrokerFaults is the fault suite: `telekernel run --kafka … --clickhouse …`
// on a broker of its own that is restarted gracefully, SIGKILLed and then
// stopped for an outage (faultOutage) while the simulator publishes. The
// run must exit 0, which it does only when every stage drained to the end
// offsets of its input; then Parquet and ClickHouse (FINAL) hold exactly
// the samples Kafka acknowledged, and the detections equal those of an
// undisturbed run over the same simulated fleet. It runs in parallel with
// the other tests that mostly wait (the two 2-minute stop bounds): it has
// its own broker, topics, ClickHouse database and data folder.
func TestBrokerFaults(t *testing.T) {
	chAddr := testenv.Service(t, "TK_CLICKHOUSE")
	if testing.Short() {
		t.Skip("fault suite skipped in -short mode")
	}
	t.Parallel()
	dir := t.TempDir()
	bin := buildBinary(t)
	k := startOwnKafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()

	// The reference: the same fleet, undisturbed, as fast as it goes.
	refCfg, refDB, _ := faultConfig(t, dir, "ref", k.addr, chAddr, ".inf")
	dropDB(t, chAddr, refDB)
	refOut, err := exec.CommandContext(ctx, bin, "run", "-c", refCfg).CombinedOutput()
	if err != nil {
		t.Fatalf("reference run: %v\n%s", err, tail(string(refOut), 20))
	}
	refSamples := summarySamples(t, string(refOut))

	// The faulted run, paced: 8 h of fleet at 300× is 96 s of publishing.
	cfg, db, root := faultConfig(t, dir, "faults", k.addr, chAddr, "300")
	dropDB(t, chAddr, db)
	out := &testenv.LogBuffer{}
	run := exec.CommandContext(ctx, bin, "run", "-c", cfg)
	run.Stdout, run.Stderr = out, out
	start := time.Now()
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	outage := faultOutage(t)
	k.injectFaults(t, start, outage)

	// The drain is bounded at 2 minutes after the source stops: a run still
	// going 4 minutes after the outage hangs; SIGQUIT it for its stacks.
	var runErr error
	select {
	case runErr = <-exited:
	case <-time.After(4 * time.Minute):
		_ = run.Process.Signal(syscall.SIGQUIT)
		runErr = fmt.Errorf("no exit within 4 minutes after the outage (SIGQUIT for stacks): %v", <-exited)
	}
	t.Logf("faulted run exited after %v: %v", time.Since(start).Round(time.Second), runErr)
	keepLog(t, out.String())
	if runErr != nil {
		t.Fatalf("the faulted run: %v:\n%s", runErr, tail(out.String(), 30))
	}
	t.Logf("the run logged %d partition losses, %d revocations, %d transactions failed on the broker's side (a stage renewed its session) and %d waits for the samples' acknowledgement",
		strings.Count(out.String(), `"msg":"partitions lost"`), strings.Count(out.String(), `"msg":"partitions revoked"`),
		strings.Count(out.String(), `"msg":"transaction failed on the broker's side`), strings.Count(out.String(), `"msg":"waited for Kafka to acknowledge`))
	samples := summarySamples(t, out.String())
	if samples != refSamples {
		t.Errorf("the faulted run published %d samples, the reference %d", samples, refSamples)
	}

	// Sinks: exactly the samples Kafka acknowledged, no duplicates.
	if n, err := parquet.CountRows(root); err != nil || n != samples {
		t.Errorf("parquet holds %d rows (%v), want the %d samples produced", n, err, samples)
	}
	ch, err := clickhouse.New(ctx, clickhouse.Config{Addr: []string{chAddr}, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if n, err := ch.Count(ctx, "samples"); err != nil || int64(n) != samples {
		t.Errorf("clickhouse samples FINAL: %d rows (%v), want the %d samples produced", n, err, samples)
	}

	// Detections: identical to the undisturbed run's, none twice.
	got, dups := detectionSet(t, readAll(ctx, t, k.addr, topicOf(t, cfg, "detections")))
	want, _ := detectionSet(t, readAll(ctx, t, k.addr, topicOf(t, refCfg, "detections")))
	if dups > 0 {
		t.Errorf("the faulted run emitted %d duplicate detections", dups)
	}
	checkTargetsStayedUp(t, out.String(), got)
	if len(want) == 0 {
		t.Error("the reference run emitted no detections")
	}
	compareDetections(t, "faulted", got, want)
	if !t.Failed() {
		dropDB(t, chAddr, db)
		dropDB(t, chAddr, refDB)
	}
	t.Logf("%d samples in Parquet and ClickHouse after a broker restart, a SIGKILL and a %v outage; %d detections identical to the undisturbed run",
		samples, outage, len(got))
}

// faultDevices is the simulated fleet's size in faultConfig.
const faultDevices = 6

var targetStateRe = regexp.MustCompile(`"msg":"target state".*"state":"([A-Z]+)"`)

// checkTargetsStayedUp checks the gNMI collector's view of the devices in
// the faulted run (target_state, on by default): each came up once and
// none was published DOWN, whatever the broker did, and no detection is
// on a target's state. The devices were never lost; only the broker was.
func checkTargetsStayedUp(t *testing.T, log string, detections map[string]string) {
	t.Helper()
	states := map[string]int{}
	for _, m := range targetStateRe.FindAllStringSubmatch(log, -1) {
		states[m[1]]++
	}
	if states["UP"] != faultDevices || len(states) != 1 {
		t.Errorf("target states published: %v, want UP once for each of the %d devices", states, faultDevices)
	}
	for _, d := range detections {
		if strings.Contains(d, schemas.MetricTargetState) {
			t.Errorf("detection on a target's state: %s", d)
		}
	}
}

// keepLog writes the faulted run's output to a file that stays after a
// failed test, for reading what happened.
func keepLog(t *testing.T, out string) {
	t.Helper()
	f, err := os.CreateTemp("", "telekernel-faults-*.log")
	if err != nil {
		t.Logf("cannot keep the run's output: %v", err)
		return
	}
	_, _ = f.WriteString(out)
	_ = f.Close()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the faulted run's whole output is in %s", f.Name())
			return
		}
		_ = os.Remove(f.Name())
	})
}

func summarySamples(t *testing.T, out string) int64 {
	t.Helper()
	m := summaryRe.FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		t.Fatalf("no summary line in:\n%s", tail(out, 20))
	}
	n, _ := strconv.ParseInt(m[len(m)-1][1], 10, 64)
	return n
}

// topicOf returns the topic named in a config written by faultConfig.
func topicOf(t *testing.T, cfg, name string) string {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^  ` + name + `: (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no topic %s in %s", name, cfg)
	}
	return string(m[1])
}

func dropDB(t *testing.T, addr, db string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ch, err := clickhouse.New(ctx, clickhouse.Config{Addr: []string{addr}, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if err := ch.DropDatabase(ctx); err != nil {
		t.Fatal(err)
	}
}
