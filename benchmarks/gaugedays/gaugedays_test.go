package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/backtest"
	"github.com/telekernel/telekernel/config"
)

// TestGaugeDays writes the export (seeds 1 and 2, 4 days, 3 routers: 288
// device-hours) into a temporary folder, replays it as `telekernel eval
// --format wide-csv --data DIR/data --labels DIR/labels.csv` does (the
// default configuration), and holds the detect stage to the figures
// docs/backtests.md prints for it ("Gauges over days", the Go generator's rows).
// The bounds on what should be low (false incidents, firing detections)
// are about 10 % above the figure printed, so that a change in the last
// bits of a detector does not fail it but a defect that adds a tenth does;
// the counts of what should be high (events detected, within 30 s) are the
// figures themselves. Each case takes 20–35 s on the shared 2-core machine;
// the cases run in parallel.
func TestGaugeDays(t *testing.T) {
	if testing.Short() {
		t.Skip("the 4-day export takes 20-35 s per case")
	}
	cases := []struct {
		name     string
		seed     uint64
		counters bool
		// The README's figures (the build of 2026-12-05 with far breaks).
		firing, falseAny int     // firing detections; false incidents outside every event
		perHour          float64 // false incidents outside every event per device-hour
		within30s        int     // events detected within 30 s of their start
		// The bounds asserted: about 10 % above the figures.
		maxFiring  int
		maxPerHour float64
	}{
		{name: "gauges", seed: 1, firing: 135, falseAny: 63, perHour: 0.219, within30s: 5, maxFiring: 147, maxPerHour: 0.25},
		{name: "counters", seed: 1, counters: true, firing: 156, falseAny: 65, perHour: 0.226, within30s: 6, maxFiring: 170, maxPerHour: 0.25},
		{name: "gauges-seed2", seed: 2, firing: 115, falseAny: 59, perHour: 0.205, within30s: 5, maxFiring: 125, maxPerHour: 0.23},
		{name: "counters-seed2", seed: 2, counters: true, firing: 132, falseAny: 61, perHour: 0.212, within30s: 6, maxFiring: 144, maxPerHour: 0.24},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case is one core's work
			dir := t.TempDir()
			if err := Write(dir, c.seed, c.counters); err != nil {
				t.Fatal(err)
			}
			res := evalExport(t, dir)
			r := res.Report
			t.Logf("%d points in %v; %d firing; %d/%d detected, %d within 30 s; false incidents outside every event %d in %.2f device-hours (%.3f per device-hour); README: %d firing, %d (%.3f), 7/7, %d",
				res.Stats.Points, res.Stats.Elapsed.Round(time.Millisecond), r.Firing, r.Detected, len(r.Events), r.Within30s,
				r.FalseAny, r.DeviceHours, r.FalseAnyPerDeviceHour, c.firing, c.falseAny, c.perHour, c.within30s)
			for _, e := range r.Events {
				t.Logf("%s %s %s %s: detected %v %+v %s (state %v %+v)", e.Where(), e.Device, e.Keys, e.Kind, e.Detected,
					e.Latency, e.DetectedMetric, e.StateDetected, e.StateLatency)
			}
			if len(r.Outside) > 0 || len(r.Events) != len(Events) {
				t.Fatalf("%d events scored, %d outside the data; want all %d scored", len(r.Events), len(r.Outside), len(Events))
			}
			if r.Detected != len(Events) {
				t.Errorf("%d/%d events detected, want every one", r.Detected, len(Events))
			}
			if r.Within30s < c.within30s {
				t.Errorf("%d events detected within 30 s, README says %d", r.Within30s, c.within30s)
			}
			if r.FalseAnyPerDeviceHour > c.maxPerHour {
				t.Errorf("%d false incidents outside every event = %.3f per device-hour, want ≤ %.2f (README: %.3f)",
					r.FalseAny, r.FalseAnyPerDeviceHour, c.maxPerHour, c.perHour)
			}
			if r.Firing > c.maxFiring {
				t.Errorf("%d firing detections, want ≤ %d (README: %d)", r.Firing, c.maxFiring, c.firing)
			}
			const sample = step * time.Second
			for _, e := range r.Events {
				if e.Kind != kindLinkDown {
					continue
				}
				// Every link down within 30 s; the one with a state
				// column on its state, within one sample.
				if !e.Detected || e.Latency > 30*time.Second {
					t.Errorf("%s: %s %s link down detected %v at %v, want within 30 s", e.Where(), e.Device, e.Keys, e.Detected, e.Latency)
				}
				if e.Device == "rtr1" && (!e.StateDetected || !e.WithinOneSample || e.StateLatency > sample) {
					t.Errorf("%s: %s %s link down with a state column: state detection %v at %v, want within one sample (%v)",
						e.Where(), e.Device, e.Keys, e.StateDetected, e.StateLatency, sample)
				}
			}
		})
	}
}

// evalExport replays the export in dir as cmd/telekernel's eval does with
// --format wide-csv and no --config.
func evalExport(t *testing.T, dir string) *backtest.Result {
	t.Helper()
	ds, err := backtest.LoadDataset(backtest.FormatWide, []string{filepath.Join(dir, "data")}, backtest.DefaultMapping(), "")
	if err != nil {
		t.Fatal(err)
	}
	events, err := backtest.ReadLabelFiles([]string{filepath.Join(dir, "labels.csv")})
	if err != nil {
		t.Fatal(err)
	}
	if err := backtest.CheckDevices(events, ds.Devices); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	res, err := backtest.Evaluate(context.Background(), "default", cfg.Detect, ds, events,
		backtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Report == nil {
		t.Fatal("no report: the labels were not scored")
	}
	return res
}

// TestExportShape checks every router's CSV without the filesystem: the
// same seed writes the same bytes and another seed other bytes, every row
// has a cell per column, the state column is down exactly in the labelled
// link down, and every column maps to a metric as eval maps them.
func TestExportShape(t *testing.T) {
	m := backtest.DefaultMapping()
	for i, r := range routers {
		var a, b, other bytes.Buffer
		for _, x := range []struct {
			w    io.Writer
			seed uint64
		}{{&a, 1}, {&b, 1}, {&other, 2}} {
			if err := writeRouter(x.w, i, x.seed, true); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: seed 1 wrote different bytes twice", r.name)
		}
		if bytes.Equal(a.Bytes(), other.Bytes()) {
			t.Errorf("%s: seeds 1 and 2 wrote the same bytes", r.name)
		}
		recs, err := csv.NewReader(&a).ReadAll() // every record as long as the header
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if len(recs) != rows+1 {
			t.Fatalf("%s: %d rows, want %d and a header", r.name, len(recs)-1, rows)
		}
		// Per link 8 gauges, a state on rtr1, 2 counters; the time, CPU,
		// memory, temperature, routes and neighbours.
		want := 1 + 4*8 + 4 + 3
		if r.state {
			want += 4
		}
		if n := len(newGen(i, 1, false).header()); n != want {
			t.Errorf("%s: %d columns without counters, want %d", r.name, n, want)
		}
		head := recs[0]
		if len(head) != want+8 {
			t.Errorf("%s: %d columns with counters, want %d", r.name, len(head), want+8)
		}
		down := 0
		for k, name := range head[1:] {
			if m.Column(name).Metric == "" {
				t.Errorf("%s: column %s maps to no metric", r.name, name)
			}
			if !strings.HasSuffix(name, "state") {
				continue
			}
			for n, rec := range recs[1:] {
				ts := t0 + int64(n)*step
				if (rec[k+1] == "im-state-down") != active(r.name, strings.TrimSuffix(name, "state"), kindLinkDown, ts) {
					t.Errorf("%s %s at %d: %s", r.name, name, ts, rec[k+1])
				}
				if rec[k+1] == "im-state-down" {
					down++
				}
			}
		}
		if r.state && down != 15*60/step {
			t.Errorf("%s: %d rows with a link down, want %d (15 minutes)", r.name, down, 15*60/step)
		}
	}
}

// TestLabels checks labels.csv as eval reads it.
func TestLabels(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "labels.csv")
	if err := writeFile(path, writeLabels); err != nil {
		t.Fatal(err)
	}
	events, err := backtest.ReadLabels(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != len(Events) {
		t.Fatalf("%d events read, want %d", len(events), len(Events))
	}
	for i, e := range events {
		w := Events[i]
		keys := ""
		if w.Interface != "" {
			keys = "name=" + w.Interface
		}
		if e.Device != w.Device || e.Keys != keys || e.Start.Unix() != w.Start || e.End.Unix() != w.End || e.Kind != w.Kind {
			t.Errorf("event %d read as %s %s %v-%v, want %+v", i, e.Device, e.Kind, e.Start, e.End, w)
		}
	}
}
