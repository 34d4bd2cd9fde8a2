package maintenance

import (
	"errors"
	"testing"
	"time"
)

// TestRestoreUnderOtherBucket: a series state written under one bucket
// and season (a daily profile of 24 hourly phases) and restored after the
// operator changed maintain.model.bucket to 30 minutes and baseline to 48
// buckets (a day still, so a profile of 48 phases) must not stop the
// tracker: the state is refused as incompatible (the series starts cold)
// or used as it is. Before, it was restored, and the first bucket whose
// phase lay beyond the old profile panicked (index out of range) in the
// stage's Process.
func TestRestoreUnderOtherBucket(t *testing.T) {
	a, _ := New(Config{})
	drive(t, a, t0, 30, func(float64) float64 { return -3 }) // baseline and profile learned
	k := a.Keys()[0]
	st, ok := a.AppendState(nil, k)
	if !ok {
		t.Fatal("no state")
	}
	b, _ := New(Config{Bucket: 30 * time.Minute, Baseline: 48}) // still a day
	if err := b.RestoreState(k, st); err != nil {
		if !errors.Is(err, ErrIncompatibleState) {
			t.Fatalf("restore: %v, want it accepted or refused as incompatible", err)
		}
		return
	}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("restored series panics on its next samples: %v", r)
		}
	}()
	start := t0.Add(30 * time.Hour)
	for m := 0; m < 24*60; m += 10 {
		b.Observe(start.Add(time.Duration(m)*time.Minute).UnixNano(), k.Device, k.Metric, k.Keys, -3)
	}
}
