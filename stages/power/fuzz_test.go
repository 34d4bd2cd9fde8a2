package power

import (
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/pipeline"
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
	recs := stagetest.FleetTicks(f, fleet, 62)
	stagetest.FuzzRestore(f, func(t testing.TB) pipeline.Processor {
		p, err := New(Config{}, "power", "detections", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}, recs[:60], recs[60:])
}
