package detect

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// TestDetectErrorBurstsCloser: a link's in-errors counter, read every
// 10 s, takes a burst of 200 to 600 errors in one interval every 2 to 4
// hours for 80 hours, then (an optic wearing out) one every 2 to 6
// minutes, each no larger than before: one firing detection after the
// first day, by density, within four bursts of the change, its
// description saying how close together the bursts came; the stage's
// members without density fire nothing after the first day.
func TestDetectErrorBurstsCloser(t *testing.T) {
	const step = 10 * time.Second
	n := int(84 * time.Hour / step)
	wear := int(80 * time.Hour / step)
	build := func() (recs []*kgo.Record) {
		rng := rand.New(rand.NewPCG(5, 11))
		total := uint64(1e6)
		next := rng.IntN(720)
		return sampleRecords(t, n, 1, func(i int) []schemas.Sample {
			if i == wear {
				next = i
			}
			if i == next {
				total += uint64(200 + rng.IntN(401))
				if i < wear {
					next = i + 720 + rng.IntN(720)
				} else {
					next = i + 12 + rng.IntN(24)
				}
			}
			return []schemas.Sample{counterSample(schemas.MetricInErrors, "name=Ethernet1", total)}
		})
	}
	for _, members := range [][]string{nil, {"robust_z", "ewma", "seasonal", "cusum", "level_shift"}} {
		cfg := Config{}
		cfg.Detectors.Counters.Detectors = members
		dets := process(t, newTestDetect(t, cfg), build())
		var late []string
		var fired []*schemas.Detection
		for _, d := range dets {
			if d.State == schemas.StateFiring && d.EventTime.Sub(t0) >= 24*time.Hour {
				fired = append(fired, d)
				late = append(late, d.Detector+" at "+d.EventTime.Sub(t0).String())
			}
		}
		if members != nil {
			if len(fired) != 0 {
				t.Errorf("without density: %v", late)
			}
			continue
		}
		if len(fired) != 1 || fired[0].Detector != "density" {
			t.Fatalf("fired after the first day: %v, want one by density", late)
		}
		at := fired[0].EventTime.Sub(t0)
		if at < 80*time.Hour || at > 80*time.Hour+4*6*time.Minute {
			t.Errorf("fired at %v, want within four bursts of 80h", at)
		}
		d := fired[0].Annotations["description"]
		t.Logf("fired at %v: %s", at, d)
		if !strings.Contains(d, "its last 4 excursions within") || !strings.Contains(d, "had been the closest") {
			t.Errorf("description %q says nothing of the spacing", d)
		}
	}
}
