package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

func TestReportSimulated(t *testing.T) {
	dir := t.TempDir()
	cmd := newReportCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--device", "sim-01", "--out", dir, "--days", "4", "--interval", "10m"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	files := strings.Fields(out.String())
	if len(files) != 2 {
		t.Fatalf("files %v", files)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 500 {
			t.Fatalf("%s is %v", f, b)
		}
	}
	// An unknown device is the flag's fault: the message says so, not
	// that of a fault the user never wrote.
	cmd = newReportCmd()
	cmd.SetArgs([]string{"--device", "sim-42", "--out", dir})
	want := `report: --device "sim-42" is not a simulated device (without --kafka the report simulates sim-00 … sim-03)`
	if err := cmd.Execute(); err == nil || err.Error() != want {
		t.Fatalf("unknown device: error %v, want %s", err, want)
	}
}

// TestReportFromKafka reads a device's samples from a Kafka topic (kfake)
// through the config's kafka section.
func TestReportFromKafka(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(2, "tk.samples"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	fleet, err := sim.New(sim.Config{Devices: 3, Interfaces: 4, Start: time.Now().Add(-6 * time.Hour).Truncate(time.Hour), Interval: 2 * time.Minute,
		Power: true, Transceivers: true, Faults: []sim.Fault{}})
	if err != nil {
		t.Fatal(err)
	}
	b := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer b.Release()
	var hs []kgo.RecordHeader
	for _, h := range schemas.SamplesHeaders() {
		hs = append(hs, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	var recs []*kgo.Record
	for range 180 {
		dev := ""
		flush := func() {
			rec := b.NewRecord()
			defer rec.Release()
			val, err := schemas.EncodeSamples(nil, rec)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, &kgo.Record{Topic: "tk.samples", Key: []byte(dev), Value: val, Headers: hs})
		}
		fleet.Next(func(s *schemas.Sample) {
			if dev != "" && s.Device != dev {
				flush()
			}
			dev = s.Device
			b.Append(s)
		})
		flush()
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tk.yaml")
	if err := os.WriteFile(cfg, []byte("kafka:\n  brokers: ["+strings.Join(cluster.ListenAddrs(), ", ")+"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := newReportCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--device", "sim-02", "--kafka", "-c", cfg, "--out", dir})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if files := strings.Fields(out.String()); len(files) != 2 {
		t.Fatalf("files %v", files)
	}
}
