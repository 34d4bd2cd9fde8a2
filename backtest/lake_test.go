package backtest

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/sinks/parquet"
	"github.com/telekernel/telekernel/stages/detect"
)

// writeLake writes two hours of two devices through the Parquet sink, on
// two partitions with the devices interleaved: r1's gauge steps 50-fold
// at stepAt, r2 is flat, and r1 carries an oper-status state.
func writeLake(t *testing.T, root string, start time.Time, steps int, stepAt time.Time) int {
	t.Helper()
	w, err := parquet.New(parquet.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := 0; i < steps; i += 30 {
		var ss []schemas.Sample
		for j := i; j < min(i+30, steps); j++ {
			ts := start.Add(time.Duration(j) * 10 * time.Second)
			for _, dev := range []string{"r2", "r1"} {
				v := 100 + float64(j%7)
				if dev == "r1" && !ts.Before(stepAt) {
					v *= 50
				}
				ss = append(ss, schemas.Sample{TS: ts.UnixNano(), Device: dev, Metric: "/system/load", Kind: schemas.KindGauge, F64: v, Source: "gnmi"})
			}
			ss = append(ss, schemas.Sample{TS: ts.UnixNano(), Device: "r1", Metric: "/interfaces/interface/state/oper-status",
				Keys: "name=Ethernet1", Kind: schemas.KindState, Str: "UP", Source: "gnmi"})
		}
		b := schemas.NewSampleBuilder(memory.NewGoAllocator())
		for k := range ss {
			b.Append(&ss[k])
		}
		rec := b.NewRecord()
		if err := w.Add("tk.samples", int32(i/30%2), int64(i), rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		b.Release()
		n += len(ss)
	}
	if _, err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLakeSource writes a lake with the Parquet sink and replays it: every
// sample once, one device per batch, every series in timestamp order
// across the hour folders.
func TestLakeSource(t *testing.T) {
	root := t.TempDir()
	start := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	n := writeLake(t, root, start, 720, start.Add(2*time.Hour)) // 2 h: three hour folders
	hours, _ := filepath.Glob(filepath.Join(root, "samples", "dt=*", "hour=*"))
	if len(hours) != 3 {
		t.Fatalf("%d hour folders, want 3", len(hours))
	}
	src, err := OpenLake(root)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	last := map[schemas.SeriesKey]int64{}
	got := 0
	for {
		b, err := src.Next(t.Context())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range b {
			if b[i].Device != b[0].Device {
				t.Fatalf("a batch of %s holds a sample of %s", b[0].Device, b[i].Device)
			}
			k := b[i].Series()
			if b[i].TS <= last[k] {
				t.Fatalf("%s: %d after %d", k, b[i].TS, last[k])
			}
			last[k] = b[i].TS
		}
		got += len(b)
	}
	if got != n || len(last) != 3 {
		t.Errorf("replayed %d samples of %d series, wrote %d of 3", got, len(last), n)
	}
	if _, err := OpenLake(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no ") {
		t.Errorf("an empty folder: %v, want no parquet files", err)
	}
}

// TestBacktestLake replays a lake with a labelled step through the detect
// stage and finds it.
func TestBacktestLake(t *testing.T) {
	root := t.TempDir()
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	step := start.Add(100 * time.Minute)
	writeLake(t, root, start, 720, step)
	labels := filepath.Join(t.TempDir(), "labels.csv")
	body := "device,start,end,kind\nr1," + step.Format(time.RFC3339) + "," + step.Add(time.Minute).Format(time.RFC3339) + ",step\n"
	if err := os.WriteFile(labels, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := LoadDataset(FormatParquet, []string{root}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	events, err := ReadLabelFiles([]string{labels})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(t.Context(), "default", detect.Config{}, ds, events, quiet)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	if r.Detected != 1 || r.Events[0].Latency < 0 || r.Events[0].Latency > 30*time.Second || r.FalseAny != 0 {
		t.Errorf("report %+v, want the step detected within 30 s and no false incident", r)
	}
	if !res.Stats.StateSeries[schemas.SeriesKey{Device: "r1", Metric: "/interfaces/interface/state/oper-status", Keys: "name=Ethernet1"}] {
		t.Errorf("state series %v, want r1's oper-status", res.Stats.StateSeries)
	}
	if h := r.DeviceHours; h < 3.99 || h > 4 {
		t.Errorf("%.3f device-hours, want 2 × 1.997", h)
	}
	// Labels of a device the lake does not hold are found after the replay.
	events[0].Device = "r3"
	if _, err := Evaluate(t.Context(), "default", detect.Config{}, ds, events, quiet); err == nil || !strings.Contains(err.Error(), `labels.csv:2: unknown device "r3"`) {
		t.Errorf("unknown device: %v", err)
	}
}
