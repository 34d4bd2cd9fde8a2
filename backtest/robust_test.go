package backtest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

// rowFunc changes or drops one row of a replay: b is the n-th row (from
// 0) of its device that reached it (a wide CSV source gives one batch per
// row). It returns the samples to replay, b changed in place or a part of
// it, or none to drop the row; b belongs to the source, as in Source.
type rowFunc func(n int, b []schemas.Sample) []schemas.Sample

// rowwise replays src with every row passed through f.
type rowwise struct {
	src  Source
	f    rowFunc
	rows map[string]int
}

func (s *rowwise) Next(ctx context.Context) ([]schemas.Sample, error) {
	for {
		b, err := s.src.Next(ctx)
		if err != nil {
			return nil, err
		}
		dev := b[0].Device
		n := s.rows[dev]
		s.rows[dev] = n + 1
		if b = s.f(n, b); len(b) > 0 {
			return b, nil
		}
	}
}

func (s *rowwise) Close() error { return s.src.Close() }

// transform makes every group of ds replay through a row function that
// newf returns, a new one for each replay (one that draws random numbers
// starts from its seed in each).
func transform(ds *Dataset, newf func() rowFunc) {
	for i, g := range ds.Groups {
		open := g.Open
		ds.Groups[i].Open = func() (Source, error) {
			src, err := open()
			if err != nil {
				return nil, err
			}
			return &rowwise{src: src, f: newf(), rows: map[string]int{}}, nil
		}
	}
}

// everyKth keeps every k-th row of each device (the first among them): a
// cadence k times slower.
func everyKth(k int) rowFunc {
	return func(n int, b []schemas.Sample) []schemas.Sample {
		if n%k != 0 {
			return nil
		}
		return b
	}
}

// without leaves out the samples whose metric contains part.
func without(part string) rowFunc {
	return func(_ int, b []schemas.Sample) []schemas.Sample {
		out := b[:0]
		for _, smp := range b {
			if !strings.Contains(smp.Metric, part) {
				out = append(out, smp)
			}
		}
		return out
	}
}

// thin makes every group of ds replay every k-th row of each device (of
// each file of a wide CSV data set) and leave out the samples whose metric
// contains drop (when not empty).
func thin(ds *Dataset, k int, drop string) {
	if k > 1 {
		transform(ds, func() rowFunc { return everyKth(k) })
	}
	if drop != "" {
		transform(ds, func() rowFunc { return without(drop) })
	}
}

// TestBacktestBigdamaSlowCadence replays bigdama18's port-flap experiment
// at a fifth of its cadence (every 5th row: about 27 s) without the BGP
// established-neighbours counts, so only the ports' counter rates and
// gauges can tell (another vendor's export, a slower collector): each of
// the four flaps is detected, and nothing fires outside every event
// window. A series is young for its first 1/alpha = 20 points, which is
// 9 minutes here: before level_shift weighted an ended shift as in a
// series of any age, spine2's first flap silenced the link's counters for
// the next three (README "Robustness under cadence, loss and cold start").
func TestBacktestBigdamaSlowCadence(t *testing.T) {
	dir := bigdama(t)
	ds, err := LoadDataset(FormatWide, []string{filepath.Join(dir, "data")}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var pf []Group
	for _, g := range ds.Groups {
		if g.Name == "portflap_first" {
			pf = append(pf, g)
		}
	}
	ds.Groups = pf
	thin(ds, 5, "established-neighbors")
	events, err := ReadLabelFiles([]string{filepath.Join(dir, "labels", "portflap_first.csv")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(t.Context(), "default", detect.Config{}, ds, events, quiet)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	for _, e := range r.Events {
		t.Logf("%s %s detected %v latency %v by %s", e.Where(), e.Device, e.Detected, e.Latency, e.DetectedMetric)
		// The link goes down about 20 s after the labelled start; a
		// shift fires on the second point down, after the interval
		// that straddles the drop: at most about 4 intervals.
		if !e.Detected || e.Latency > 2*time.Minute {
			t.Errorf("%s %s: detected %v, latency %v; want within 2 minutes", e.Where(), e.Device, e.Detected, e.Latency)
		}
	}
	if len(r.Events) != 4 || r.FalseAnyPerDeviceHour > 1 {
		t.Errorf("%d events, %.2f false incidents per device-hour outside every event; want 4 and at most 1", len(r.Events), r.FalseAnyPerDeviceHour)
	}
	t.Logf("%d points; detected %d/4, false incidents %d any, %d own over %.2f device-hours", res.Stats.Points, r.Detected, r.FalseAny, r.FalseOwn, r.DeviceHours)
}
