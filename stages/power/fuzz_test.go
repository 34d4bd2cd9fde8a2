package power

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// FuzzRestoreState: the power stage's restore of arbitrary changelog
// records (stagetest.FuzzRestore), seeded with the models and device
// states of two simulated devices after an hour.
func FuzzRestoreState(f *testing.F) {
	fleet, err := sim.New(sim.Config{Devices: 2, Interfaces: 4, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Interval: time.Minute, Power: true, Faults: []sim.Fault{}})
	if err != nil {
		f.Fatal(err)
	}
	recs := stagetest.FleetTicks(f, fleet, 62, nil)
	stagetest.FuzzRestore(f, func(t testing.TB) pipeline.Processor {
		p, err := New(Config{}, "power", "detections", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}, recs[:60], recs[60:])
}

// TestBadNamesDropped: samples of a device without a name are dropped and
// counted. The power stage used to estimate them and stop at the first
// power row, which cannot be written without a device.
func TestBadNamesDropped(t *testing.T) {
	fleet, err := sim.New(sim.Config{Devices: 1, Interfaces: 4, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Interval: time.Minute, Power: true, Faults: []sim.Fault{}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{}, "power", "detections", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range stagetest.FleetTicks(t, fleet, 30, func(_ int, s *schemas.Sample) bool { s.Device = ""; n++; return true }) {
		if err := p.Process(context.Background(), r, func(*kgo.Record) {}); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.DroppedRows(); got != (schemas.RowDrops{BadName: int64(n)}) {
		t.Errorf("dropped %+v, want all %d rows for a bad name", got, n)
	}
}
