package config

import (
	"testing"
	"time"
)

// TestBackfillZeroStartsLive: `sim.backfill: 0s`, which README offers for
// a run on a Kafka that keeps an earlier run's state, starts the simulator
// at the clock (no replay); a file without backfill still replays 24h.
// Before, 0s was taken for "unset" and silently replaced by 24h.
func TestBackfillZeroStartsLive(t *testing.T) {
	f := func(body string, want time.Duration) {
		t.Helper()
		c, err := Parse("sim.yaml", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if c.Sim.Backfill != want {
			t.Errorf("%q: sim.backfill %v, want %v", body, c.Sim.Backfill, want)
		}
	}
	f("sim:\n  backfill: 0s\n", 0)
	f("sim:\n  backfill: 1h\n", time.Hour)
	f("sim:\n  devices: 3\n", DefaultBackfill)
	f("", DefaultBackfill)
	if d := Default(); d.Sim.Backfill != DefaultBackfill {
		t.Errorf("Default: sim.backfill %v, want %v", d.Sim.Backfill, DefaultBackfill)
	}
}
