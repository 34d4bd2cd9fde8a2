package maintenance

import (
	"testing"
	"time"
)

// TestRestoreUnderShorterWindow: a series state written with window 96 and
// restored after the operator lowered maintain.model.window to 48 is
// fitted over the last 48 buckets, as the README promises ("over the last
// window buckets a Theil–Sen line is fitted"). Before, the restored 96
// buckets were kept for good (each new bucket dropped one old one), so the
// trend was fitted over twice the configured window for ever.
func TestRestoreUnderShorterWindow(t *testing.T) {
	a, _ := New(Config{Window: 96})
	drive(t, a, t0, 120, func(float64) float64 { return -3 })
	k := a.Keys()[0]
	if ts, _, _, _, _ := a.TrendOf(k); len(ts) != 96 {
		t.Fatalf("%d buckets under window 96", len(ts))
	}
	st, _ := a.AppendState(nil, k)
	b, _ := New(Config{Window: 48})
	if err := b.RestoreState(k, st); err != nil {
		t.Fatal(err)
	}
	drive(t, b, t0.Add(120*time.Hour), 5, func(float64) float64 { return -3 })
	if ts, _, _, _, _ := b.TrendOf(k); len(ts) != 48 {
		t.Errorf("restored under window 48: the trend is fitted over %d buckets, want 48", len(ts))
	}
}
