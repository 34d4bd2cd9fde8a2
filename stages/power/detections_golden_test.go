package power

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

var updateDetections = flag.Bool("update-detections", false, "rewrite testdata/detections.golden from this build")

// detectionsGolden holds what the power stage emitted for two days of four
// simulated devices with a PSU degradation and a fan failure, as the stage
// of 2026-12-02 wrote it (commit 786de83, before the detection builder and
// the shared hysteresis): every residual detection (key, headers, JSON),
// then the SHA-256 of every tk.power record and of every changelog record
// checkpointed after each input record.
const detectionsGolden = "testdata/detections.golden"

// TestDetectionsGolden: the power stage's detections, power rows and
// changelog are byte for byte those in detectionsGolden (detectedAt fixed).
func TestDetectionsGolden(t *testing.T) {
	h := time.Hour
	fleet, err := sim.New(sim.Config{Devices: 4, Interfaces: 8, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Interval: time.Minute,
		Power: true, Faults: []sim.Fault{{Device: "sim-00", Component: "PSU2", Kind: sim.FaultPSUDegradation, After: 20 * h, Duration: 4 * h},
			{Device: "sim-01", Component: "Fan1", Kind: sim.FaultFanFailure, After: 30 * h, Duration: 4 * h}}})
	if err != nil {
		t.Fatal(err)
	}
	pw, err := New(Config{}, "power", "detections", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	pw.det.Now = func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) }
	var dets bytes.Buffer
	rows, changelog := sha256.New(), sha256.New()
	n := 0
	for range 48 * 60 {
		sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
		fleet.Next(func(s *schemas.Sample) { sb.Append(s) })
		rec := sb.NewRecord()
		val, err := schemas.EncodeSamples(nil, rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		r := &kgo.Record{Topic: "samples", Value: val}
		for _, hd := range schemas.SamplesHeaders() {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: hd.Key, Value: hd.Value})
		}
		err = pw.Process(context.Background(), r, func(o *kgo.Record) {
			if o.Topic != "detections" {
				fmt.Fprintf(rows, "%q %q %v\n", o.Key, o.Value, o.Headers)
				return
			}
			n++
			dets.Write(o.Key)
			for _, hd := range o.Headers {
				dets.WriteString(" " + hd.Key + "=" + string(hd.Value))
			}
			dets.WriteString(" " + string(o.Value) + "\n")
		})
		if err != nil {
			t.Fatal(err)
		}
		// One partition, so the records come in a fixed order.
		pw.Checkpoint(func(p int32, k, v []byte) { fmt.Fprintf(changelog, "%d %q %x\n", p, k, v) })
	}
	fmt.Fprintf(&dets, "power rows sha256 %x\nchangelog sha256 %x\n", rows.Sum(nil), changelog.Sum(nil))
	if *updateDetections {
		if err := os.WriteFile(detectionsGolden, dets.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(detectionsGolden)
	if err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("%d residual detections, want a firing and a resolved one", n)
	}
	if !bytes.Equal(dets.Bytes(), want) {
		t.Fatalf("the power stage's output differs from %s:\ngot\n%s\nwant\n%s", detectionsGolden, dets.Bytes(), want)
	}
}
