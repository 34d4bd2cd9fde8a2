package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// writeResultsConfig writes the config of a power and maintain chaos run:
// every topic and group under prefix, the samples topic shared.
func writeResultsConfig(t *testing.T, dir, name, broker, samples, prefix string) string {
	t.Helper()
	cfg := fmt.Sprintf(`kafka:
  brokers: [%s]
  session_timeout: 6s
topics:
  samples: %s
  detections: %[3]s.detections
  power: %[3]s.power
  maintenance: %[3]s.maintenance
  dead_letters: %[3]s.deadletters
  group_prefix: %[3]s
  partitions: 3
inventory: {topic: %[3]s.inventory}
correlate: {topic: %[3]s.incidents, input: %[3]s.incidents.input}
power:
  model: {window: 10m, warm_up: 100}
maintain:
  model: {bucket: 5m, window: 24, min_buckets: 6, min_fit: 6, baseline: 6, horizon: 24h, season: 15m}
http:
  listen: "off"
log:
  format: json
`, broker, samples, prefix)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestChaosPowerMaintain is the chaos test of the power and maintain
// stages on real Kafka: two processes of each run over about 10 simulated
// hours of a fleet with degrading optics and a failing PSU; one of each is
// SIGKILLed inside an open transaction and a third of each joins later.
// Their outputs (power rows, power residual detections, maintenance events)
// must be exactly those of one process of each over the same input (as
// multisets: nothing missing, nothing twice), and their final changelog
// state byte-identical, which holds only if every moved partition
// continued from the exact state of the last commit (the power stage's
// counter baselines and open window included).
func TestChaosPowerMaintain(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	if testing.Short() {
		t.Skip("chaos test skipped in -short mode")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	idb := make([]byte, 4)
	_, _ = rand.Read(idb)
	id := hex.EncodeToString(idb)
	samples := "chaosr-" + id + ".samples"
	chaos, ref := "chaosr-"+id, "chaosr-"+id+"-ref"
	chaosCfg := writeResultsConfig(t, dir, "chaos.yaml", broker, samples, chaos)
	refCfg := writeResultsConfig(t, dir, "ref.yaml", broker, samples, ref)

	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cl, err := kafka.Connect(ctx, kafka.Config{Brokers: []string{broker}}, kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	specs := []kafka.TopicSpec{{Name: samples, Partitions: 6}}
	for _, p := range []string{chaos, ref} {
		for _, s := range []string{".detections", ".power", ".maintenance"} {
			specs = append(specs, kafka.TopicSpec{Name: p + s, Partitions: 3})
		}
	}
	if err := kafka.EnsureTopics(ctx, cl, specs...); err != nil {
		t.Fatal(err)
	}

	// 8 devices with optics and PSUs, one sample a minute for 10 hours:
	// two optics degrade (maintenance cases), a PSU loses efficiency
	// (power residual, maintenance case).
	h := time.Hour
	fleet, err := sim.New(sim.Config{Devices: 8, Interfaces: 4, Interval: time.Minute, Start: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
		Power: true, Transceivers: true, Faults: []sim.Fault{
			{Device: "sim-02", Interface: "Ethernet2", Kind: sim.FaultOpticDegradation, After: 2 * h, Duration: 3 * h},
			{Device: "sim-05", Interface: "Ethernet1", Kind: sim.FaultOpticDegradation, After: 5 * h, Duration: 3 * h},
			{Device: "sim-07", Component: "PSU1", Kind: sim.FaultPSUDegradation, After: 6 * h, Duration: 3 * h},
		}})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := publish.New(cl, publish.Config{Topic: samples, MaxRows: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()

	pw := []*proc{startStageOf(t, bin, "power", chaosCfg, "power1"), startStageOf(t, bin, "power", chaosCfg, "power2")}
	mt := []*proc{startStageOf(t, bin, "maintain", chaosCfg, "maintain1"), startStageOf(t, bin, "maintain", chaosCfg, "maintain2")}
	start := time.Now()
	kills := []<-chan bool{
		killMidTransaction(ctx, cl, pw[0], chaos+"-power-changelog", 5*time.Second),
		killMidTransaction(ctx, cl, mt[0], chaos+"-maintain-changelog", 5*time.Second),
	}
	// Spread the input over about 15 s; a third process of each joins
	// after 10 s.
	publishPaced(ctx, t, fleet, pub, 600, 5, 25*time.Millisecond, 10*time.Second, func(tick int) {
		pw = append(pw, startStageOf(t, bin, "power", chaosCfg, "power3"))
		mt = append(mt, startStageOf(t, bin, "maintain", chaosCfg, "maintain3"))
		t.Logf("started power3 and maintain3 at %v (tick %d)", time.Since(start).Round(time.Millisecond), tick)
	})
	for i, k := range kills {
		mid := <-k
		p := []*proc{pw[0], mt[0]}[i]
		<-p.done
		t.Logf("SIGKILLed %s inside an open transaction: %v", p.name, mid)
		if !mid {
			t.Errorf("%s had no open transaction to kill", p.name)
		}
	}
	waitCaughtUp(ctx, t, cl, chaos+"-power", samples)
	waitCaughtUp(ctx, t, cl, chaos+"-maintain", samples)
	t.Logf("chaos run caught up at %v", time.Since(start).Round(time.Millisecond))
	for _, p := range append(pw[1:], mt[1:]...) {
		p.stop(t)
	}

	// The reference: one process of each over the same input.
	refs := []*proc{startStageOf(t, bin, "power", refCfg, "power-ref"), startStageOf(t, bin, "maintain", refCfg, "maintain-ref")}
	waitCaughtUp(ctx, t, cl, ref+"-power", samples)
	waitCaughtUp(ctx, t, cl, ref+"-maintain", samples)
	for _, p := range refs {
		p.stop(t)
	}

	compareResults(ctx, t, broker, chaos, ref)
	restored := 0
	for _, p := range append(pw[1:], mt[1:]...) {
		restored += restoredRecords(p.log.String())
	}
	if restored == 0 {
		t.Error("no process restored any state: no partition moved with its state")
	}
	t.Logf("%d state records restored after handoffs", restored)
}

// compareResults compares the outputs and final changelog state of the
// power and maintain stages of two runs (topic and group prefixes). The
// reference run's output counts are the README's (the input is fixed, so
// they change only with the stages' logic).
func compareResults(ctx context.Context, t *testing.T, broker, chaos, ref string) {
	t.Helper()
	for _, c := range []struct {
		name   string
		decode func(*testing.T, *kgo.Record) []string
		items  int
	}{
		{".power", powerRows, 3521},
		{".maintenance", maintenanceEvent, 43},
		{".detections", detectionJSON, 2},
	} {
		got := multiset(t, readAll(ctx, t, broker, chaos+c.name), c.decode)
		want := multiset(t, readAll(ctx, t, broker, ref+c.name), c.decode)
		n := 0
		for _, w := range want {
			n += w
		}
		if n != c.items {
			t.Errorf("the reference run wrote %d items to %s, the README says %d", n, c.name, c.items)
		}
		compareMultisets(t, c.name, got, want)
	}
	for _, stage := range []string{"power", "maintain"} {
		gotState := lastByPartitionKey(readAll(ctx, t, broker, chaos+"-"+stage+"-changelog"))
		wantState := lastByPartitionKey(readAll(ctx, t, broker, ref+"-"+stage+"-changelog"))
		diff := 0
		for k, v := range wantState {
			if gotState[k] != v {
				diff++
			}
		}
		if diff > 0 || len(gotState) != len(wantState) || len(wantState) == 0 {
			t.Errorf("%s: final state differs for %d of %d keys (chaos run holds %d)", stage, diff, len(wantState), len(gotState))
		}
	}
}

// publishPaced publishes ticks of fleet, flushing every flushEvery ticks,
// one tick per step of wall time; join is called once, at the first tick
// after joinAfter.
func publishPaced(ctx context.Context, t *testing.T, fleet *sim.Fleet, pub *publish.Publisher, ticks, flushEvery int, step, joinAfter time.Duration, join func(tick int)) {
	t.Helper()
	start, joined := time.Now(), false
	for tick := 1; tick <= ticks; tick++ {
		var addErr error
		fleet.Next(func(s *schemas.Sample) {
			if addErr == nil {
				addErr = pub.Add(ctx, s)
			}
		})
		if addErr != nil {
			t.Fatal(addErr)
		}
		if tick%flushEvery == 0 || tick == ticks {
			if err := pub.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Until(start.Add(time.Duration(tick) * step)))
		if !joined && time.Since(start) > joinAfter {
			joined = true
			join(tick)
		}
	}
}

// multiset counts the decoded form of each record.
func multiset(t *testing.T, recs []*kgo.Record, decode func(*testing.T, *kgo.Record) []string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range recs {
		for _, s := range decode(t, r) {
			out[s]++
		}
	}
	return out
}

func compareMultisets(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	var missing, extra []string
	n := 0
	for k, w := range want {
		n += w
		if g := got[k]; g < w {
			missing = append(missing, fmt.Sprintf("%d× %s", w-g, k))
		}
	}
	for k, g := range got {
		if w := want[k]; g > w {
			extra = append(extra, fmt.Sprintf("%d× %s", g-w, k))
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		t.Errorf("%s: %d missing, %d extra or duplicated; first: %v %v", what, len(missing), len(extra), first(missing), first(extra))
		return
	}
	t.Logf("%s: %d items, identical to the single-process run", what, n)
}

func first(s []string) []string { return s[:min(len(s), 2)] }

// powerRows decodes a tk.power message into its rows, printed.
func powerRows(t *testing.T, r *kgo.Record) []string {
	rows, err := schemas.DecodePower(kafka.Headers(r), r.Value)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, row := range rows {
		out[i] = fmt.Sprintf("%+v", row)
	}
	return out
}

// maintenanceEvent is a maintenance event's JSON without its wall-clock
// detection time.
func maintenanceEvent(t *testing.T, r *kgo.Record) []string {
	var e map[string]any
	if err := json.Unmarshal(r.Value, &e); err != nil {
		t.Fatal(err)
	}
	delete(e, "detectedAt")
	b, _ := json.Marshal(e)
	return []string{string(r.Key) + " " + string(b)}
}

// detectionJSON is a detection's JSON without its wall-clock detection
// time.
func detectionJSON(t *testing.T, r *kgo.Record) []string {
	var d schemas.Detection
	if err := json.Unmarshal(r.Value, &d); err != nil {
		t.Fatal(err)
	}
	d.DetectedAt = time.Time{}
	b, _ := json.Marshal(d)
	return []string{string(b)}
}

// lastByPartitionKey is the last value of each key of each partition.
func lastByPartitionKey(recs []*kgo.Record) map[string]string {
	out := map[string]string{}
	for _, r := range recs {
		out[fmt.Sprintf("%d/%q", r.Partition, r.Key)] = string(r.Value)
	}
	return out
}
