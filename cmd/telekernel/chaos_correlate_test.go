package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/telekernel/telekernel/backtest"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

// correlateChaosFleet is a fabric of 2 spines and 6 leaves with link
// failures, a reroute, BGP resets and traffic spikes over 6 simulated
// hours: the detections the chaos test feeds the correlate stage.
func correlateChaosFleet() sim.Config {
	h, m := time.Hour, time.Minute
	var faults []sim.Fault
	for i := range 4 {
		at := h + time.Duration(i)*75*m
		faults = append(faults,
			sim.Fault{Device: sim.DeviceName(2 + i), Interface: "Ethernet1", Kind: sim.FaultLinkDown, After: at, Duration: 5 * m},
			sim.Fault{Device: sim.DeviceName(3 + i), Interface: "Ethernet2", Kind: sim.FaultBGPReset, After: at + 20*m},
			sim.Fault{Device: sim.DeviceName(4 + i), Interface: "Ethernet3", Kind: sim.FaultTrafficSpike, After: at + 40*m, Duration: 10 * m})
	}
	faults = append(faults, sim.Fault{Device: "sim-07", Interface: "Ethernet2", Kind: sim.FaultReroute, After: 5*h + 30*m, Duration: 10 * m})
	return sim.Config{Devices: 8, Interfaces: 6, Topology: sim.Topology{Spines: 2}, Faults: faults}
}

// writeCorrelateConfig writes the config of one correlate-only process
// group (prefix), reading input and writing incidents, with the fleet's
// inventory as a file. Its session timeout is the broker's least (6 s), as
// in the other chaos tests: the successor of a SIGKILLed process gets its
// partition once the dead member's session expired, which the client's
// default (45 s) made most of the test's time.
func writeCorrelateConfig(t *testing.T, dir, name, broker, prefix, inventory string) string {
	t.Helper()
	cfg := fmt.Sprintf(`stages: [correlate]
kafka: {brokers: [%q], session_timeout: 6s}
topics: {detections: %[2]s.detections, dead_letters: %[2]s.dlq, group_prefix: %[2]s}
correlate: {topic: %[2]s.incidents, input: %[2]s.incidents.input, inventory: %[3]q}
inventory: {topic: %[2]s.inventory}
http: {listen: "off"}
log: {format: json}
`, broker, prefix, inventory)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestChaosCorrelate is the correlate stage's chaos test on real Kafka: a
// simulated fabric's detections (from the detect path, in event-time
// order) are published, paced, to the correlate input of two process
// groups. In the chaos group the first `telekernel stage correlate` is
// SIGKILLed inside an open transaction and a second takes over from the
// changelog; the reference group is one process. The incident updates the
// two wrote (read committed) must be the same, in the same order: none
// lost, none duplicated, the same ids, causes and evidence.
func TestChaosCorrelate(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	if testing.Short() {
		t.Skip("chaos test skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	fc := backtest.SimConfig(correlateChaosFleet())
	src, err := backtest.OpenSim(fc, 6*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dets, _, err := backtest.Run(ctx, detect.Config{}, src, backtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := sim.New(fc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	invYAML, err := yaml.Marshal(fleet.Inventory())
	if err != nil {
		t.Fatal(err)
	}
	invPath := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(invPath, invYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	idb := make([]byte, 4)
	_, _ = rand.Read(idb)
	chaos, ref := "chaos-corr-"+hex.EncodeToString(idb), "chaos-corr-ref-"+hex.EncodeToString(idb)
	chaosCfg := writeCorrelateConfig(t, dir, "chaos.yaml", broker, chaos, invPath)
	refCfg := writeCorrelateConfig(t, dir, "ref.yaml", broker, ref, invPath)

	cl, err := kafka.Connect(ctx, kafka.Config{Brokers: []string{broker}}, kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, p := range []string{chaos, ref} {
		if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: p + ".incidents.input", Partitions: 1}); err != nil {
			t.Fatal(err)
		}
	}
	p1 := startStageOf(t, bin, "correlate", chaosCfg, "p1")
	// Once p1 committed a transaction (so there is state to hand over),
	// SIGKILL it inside its next open one. The first detection goes first
	// and the rest only after that commit, so a p1 slow to start (a loaded
	// machine) cannot take everything in its first transaction.
	inputs := []string{chaos + ".incidents.input", ref + ".incidents.input"}
	publishDetections(ctx, t, cl, dets[:1], inputs, 0)
	committed := make(chan struct{})
	killed := make(chan bool, 1)
	go func() {
		waitCommitted(ctx, cl, chaos+"-correlate", chaos+".incidents.input")
		close(committed)
		killed <- <-killMidTransaction(ctx, cl, p1, chaos+"-correlate-changelog", 200*time.Millisecond)
	}()
	select {
	case <-committed:
	case <-ctx.Done():
		t.Fatal("p1 committed no transaction")
	}
	// Spread the rest over about 10 s, so p1 is mid-stream when it dies.
	publishDetections(ctx, t, cl, dets[1:], inputs, 10*time.Second)
	mid := <-killed
	<-p1.done
	t.Logf("SIGKILLed p1 inside an open transaction: %v", mid)
	if !mid {
		t.Error("p1 had no open transaction to kill")
	}
	p2 := startStageOf(t, bin, "correlate", chaosCfg, "p2")
	waitCaughtUp(ctx, t, cl, chaos+"-correlate", chaos+".incidents.input")
	p2.stop(t)
	r := startStageOf(t, bin, "correlate", refCfg, "ref")
	waitCaughtUp(ctx, t, cl, ref+"-correlate", ref+".incidents.input")
	r.stop(t)

	got := readAll(ctx, t, broker, chaos+".incidents")
	want := readAll(ctx, t, broker, ref+".incidents")
	latest := map[string]bool{}
	for _, rec := range want {
		latest[string(rec.Key)] = true
	}
	if len(want) == 0 || len(latest) < len(fc.Faults)/2 {
		t.Fatalf("the reference wrote %d updates of %d incidents for %d faults", len(want), len(latest), len(fc.Faults))
	}
	if len(got) != len(want) {
		t.Errorf("the chaos run wrote %d incident updates, the reference %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !bytes.Equal(got[i].Key, want[i].Key) || !bytes.Equal(got[i].Value, want[i].Value) {
			t.Fatalf("update %d differs:\n chaos %s\n   ref %s", i, got[i].Value, want[i].Value)
		}
	}
	restored := restoredRecords(p2.log.String())
	if restored == 0 {
		t.Errorf("p2 restored no engine state from the changelog:\n%s", tail(p2.log.String(), 30))
	}
	t.Logf("%d detections → %d incident updates of %d incidents, identical after a SIGKILL mid-transaction; p2 restored %d changelog records",
		len(dets), len(want), len(latest), restored)
}

// publishDetections writes dets, in order, to each topic (partition 0),
// spread over about span.
func publishDetections(ctx context.Context, t *testing.T, cl *kgo.Client, dets []schemas.Detection, topics []string, span time.Duration) {
	t.Helper()
	const chunks = 40
	per := max(1, (len(dets)+chunks-1)/chunks)
	for i := 0; i < len(dets); i += per {
		var recs []*kgo.Record
		for j := i; j < min(i+per, len(dets)); j++ {
			d := &dets[j]
			b, err := schemas.MarshalDetection(d)
			if err != nil {
				t.Fatal(err)
			}
			for _, topic := range topics {
				recs = append(recs, &kgo.Record{Topic: topic, Partition: 0, Key: []byte(d.Device), Value: b,
					Headers: kafka.RecordHeaders(schemas.DetectionHeaders(d, "test"))})
			}
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(span / chunks)
	}
}

// waitCommitted waits until group committed an offset above 0 on topic.
func waitCommitted(ctx context.Context, cl *kgo.Client, group, topic string) {
	adm := kadm.NewClient(cl)
	for ctx.Err() == nil {
		if offs, err := adm.FetchOffsets(ctx, group); err == nil {
			if o, ok := offs.Lookup(topic, 0); ok && o.At > 0 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}
