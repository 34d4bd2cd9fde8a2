package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// TestSimServeAndCollect runs `sim --serve` (gNMI over TLS and SNMP) and
// both `collect gnmi` and `collect snmp` on the configs it writes, in
// process, into an in-process Kafka: every device arrives over both
// protocols.
func TestSimServeAndCollect(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	broker := cluster.ListenAddrs()[0]
	dir := t.TempDir()
	simCfg := writeFile(t, "sim.yaml", "sim:\n  interval: 1s\n  backfill: 5s\n  devices: 2\n  topology: {spines: 1}\n")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := func(args ...string) <-chan string {
		done := make(chan string, 1)
		go func() {
			var out, errb bytes.Buffer
			code := execute(ctx, args, &out, &errb)
			done <- strings.Join([]string{args[0], "exit", string(rune('0' + code)), out.String(), errb.String()}, "\n")
		}()
		return done
	}
	simDone := run("sim", "-c", simCfg, "--serve", dir, "--tls", "--devices", "2", "--speed", "1", "--kafka", broker)
	for _, f := range []string{"collect-gnmi.yaml", "collect-snmp.yaml"} {
		p := filepath.Join(dir, f)
		for t0 := time.Now(); ; time.Sleep(10 * time.Millisecond) {
			if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte("targets")) {
				break
			}
			if time.Since(t0) > 10*time.Second {
				cancel()
				t.Fatalf("sim --serve wrote no %s:\n%s", f, <-simDone)
			}
		}
	}
	// Two collectors in one test: no metrics listeners.
	gnmiDone := run("collect", "gnmi", "-c", filepath.Join(dir, "collect-gnmi.yaml"), "--http", "off")
	snmpDone := run("collect", "snmp", "-c", filepath.Join(dir, "collect-snmp.yaml"), "--http", "off")

	// Read until both sources delivered at least two ticks of each device.
	rd, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics("tk.samples"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ticks := map[string]map[int64]bool{} // source/device -> timestamps
	metrics := map[string]bool{}         // source/metric
	enough := func() bool {
		for _, src := range []string{schemas.SourceGNMI, schemas.SourceSNMP} {
			if !metrics[src+"/"+schemas.MetricBGPSessionState] || !metrics[src+"/"+schemas.MetricLLDPNeighborSystemName] {
				return false
			}
		}
		for _, src := range []string{schemas.SourceGNMI, schemas.SourceSNMP} {
			for _, dev := range []string{"sim-00", "sim-01"} {
				if len(ticks[src+"/"+dev]) < 2 {
					return false
				}
			}
		}
		return true
	}
	pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
	defer pcancel()
	for !enough() && pctx.Err() == nil {
		rd.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			rec, err := schemas.DecodeSamplesValue(memory.NewGoAllocator(), r.Value)
			if err != nil {
				t.Fatal(err)
			}
			got, err := schemas.Samples(rec)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range got {
				k := s.Source + "/" + s.Device
				if ticks[k] == nil {
					ticks[k] = map[int64]bool{}
				}
				ticks[k][s.TS] = true
				metrics[s.Source+"/"+s.Metric] = true
			}
		})
	}
	cancel()
	for _, ch := range []<-chan string{simDone, gnmiDone, snmpDone} {
		if out := <-ch; !strings.Contains(out, "exit\n0") {
			t.Errorf("%s", out)
		}
	}
	if !enough() {
		t.Fatalf("timestamps per source/device: %v; source/metric: %v", ticks, metrics)
	}
	labels, err := os.ReadFile(filepath.Join(dir, "labels.jsonl"))
	if err != nil || len(labels) == 0 {
		t.Fatalf("labels: %v %q", err, labels)
	}
}
