package maintain

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/maintenance"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// FuzzRestoreState: the maintain stage's restore of arbitrary changelog
// records (stagetest.FuzzRestore), seeded with its state for two
// simulated devices with optics after two hours (degradingOptic).
func FuzzRestoreState(f *testing.F) {
	// The warm-up ends with the optic's cases open, so seeds hold an
	// open case and its last event.
	recs := stagetest.FleetTicks(f, degradingOptic(f), 122, nil)
	stagetest.FuzzRestore(f, func(t testing.TB) pipeline.Processor { return newOpticStage(t) }, recs[:120], recs[120:])
}

// degradingOptic is a fleet of two devices with optics, one degrading
// from the first hour for two: its cases open at 80 and 85 minutes and
// close at 145 and 150 under newOpticStage.
func degradingOptic(t testing.TB) *sim.Fleet {
	t.Helper()
	fleet, err := sim.New(sim.Config{Devices: 2, Interfaces: 2, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Interval: time.Minute, Transceivers: true,
		Faults: []sim.Fault{{Device: "sim-01", Interface: "Ethernet2", Kind: sim.FaultOpticDegradation, After: time.Hour, Duration: 2 * time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	return fleet
}

// newOpticStage returns a stage with TestMaintainStage's model for these
// compressed hours (the optics' signals only).
func newOpticStage(t testing.TB) *Stage {
	t.Helper()
	var cfg Config
	cfg.Model = maintenance.Config{Bucket: 5 * time.Minute, Window: 24, MinBuckets: 6, MinFit: 6, Baseline: 6, Horizon: 24 * time.Hour, Season: 15 * time.Minute,
		Signals: maintenance.DefaultSignals()[:2]}
	m, err := New(cfg, "maintenance", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRestoreRefusesBadLastEvent: an open case's last event that could not
// be written again (here of version 0) is refused at restore, with the
// series named, rather than stopping the stage at the case's next event.
func TestRestoreRefusesBadLastEvent(t *testing.T) {
	m := newOpticStage(t)
	for _, r := range stagetest.FleetTicks(t, degradingOptic(t), 120, nil) { // the cases are open
		if err := m.Process(context.Background(), r, func(*kgo.Record) {}); err != nil {
			t.Fatal(err)
		}
	}
	open := 0
	m.Checkpoint(func(p int32, k, v []byte) {
		good := `"version":1,`
		if !bytes.Contains(v, []byte(good)) {
			return
		}
		open++
		if err := newOpticStage(t).Restore(p, k, v); err != nil {
			t.Fatalf("%q: %v", k, err)
		}
		bad := bytes.Replace(v, []byte(good), []byte(`"version":0,`), 1)
		if err := newOpticStage(t).Restore(p, k, bad); err == nil || !strings.Contains(err.Error(), "last event") {
			t.Errorf("%q with a last event of version 0: %v, want it refused", k, err)
		}
	})
	if open == 0 {
		t.Fatal("no open case to test with")
	}
}
