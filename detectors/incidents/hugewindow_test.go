package incidents

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestHugeWindowSaturates: over random streams of every class of
// detection, in 2026 and moved to 1900 (before the Unix epoch), an engine
// whose Window (and SessionSpan) is 250 or 280 years or math.MaxInt64
// gives, update for update, what one of 200 years gives: each is longer
// than any stream, so every detection is within Window of every other.
// Before, during added Window to an incident's latest evidence (and took
// it from its first symptom) in int64 nanoseconds, which wrapped past
// 2262 (before 1677): from a Window of about 236 years in 2026 (222 in
// 1900) a detection the span should hold fell outside it, so a link down
// opened an incident of its own; a shut's span wrapped alike (planned),
// and expiry's Window plus Lateness, forgetting resolved incidents at
// once.
func TestHugeWindowSaturates(t *testing.T) {
	const year = 365 * 24 * time.Hour
	windows := []time.Duration{250 * year, 280 * year, math.MaxInt64}
	inv := withExternal(fabricInventory())
	for seed := range uint64(6) {
		rng := rand.New(rand.NewPCG(seed, 236))
		dets := randomStream(rng, 300)
		shift := time.Duration(0)
		if seed%2 == 1 {
			shift = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Sub(t0)
			for i := range dets {
				d := &dets[i]
				d.EventTime, d.DetectedAt, d.StartsAt = d.EventTime.Add(shift), d.DetectedAt.Add(shift), d.StartsAt.Add(shift)
			}
		}
		ref, err := New(Config{Window: 200 * year, SessionSpan: 200 * year}, inv)
		if err != nil {
			t.Fatal(err)
		}
		es := make([]*Engine, len(windows))
		for k, w := range windows {
			if es[k], err = New(Config{Window: w, SessionSpan: w}, inv); err != nil {
				t.Fatal(err)
			}
		}
		for i := range dets {
			want := ref.Add(&dets[i])
			for k, e := range es {
				got := e.Add(&dets[i])
				if err := sameUpdates(got, want); err != nil {
					t.Fatalf("seed %d (%v): window %v: detection %d (%s %s %s): %v", seed, dets[i].EventTime.Year(), windows[k], i,
						dets[i].State, dets[i].Device, dets[i].Detector, err)
				}
			}
		}
	}
}

// sameUpdates reports how got differs from want, encoded as the
// correlate stage writes them; nil when it does not.
func sameUpdates(got, want []*schemas.Incident) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d updates, want %d", len(got), len(want))
	}
	for j := range want {
		gb, _ := schemas.MarshalIncident(got[j])
		wb, _ := schemas.MarshalIncident(want[j])
		if !bytes.Equal(gb, wb) {
			return fmt.Errorf("update %d\n%s\nwant\n%s", j, gb, wb)
		}
	}
	return nil
}
