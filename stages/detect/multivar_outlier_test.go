package detect

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// psuRecords returns n ticks of a power supply's input voltage (230 V)
// and current (0.28 A), with 0.5 % noise, whose current reads bad at
// tick at (-1: none) and is 10 % higher over ticks [from, to) (the
// supply less efficient: more current for the same load).
func psuRecords(t *testing.T, n, at int, bad float64, from, to int) []*kgo.Record {
	rng := rand.New(rand.NewPCG(5, 6))
	return sampleRecords(t, n, 1, func(i int) []schemas.Sample {
		v, a := 230*(1+0.005*rng.NormFloat64()), 0.28*(1+0.005*rng.NormFloat64())
		if i >= from && i < to {
			a *= 1.1
		}
		if i == at {
			a = bad
		}
		return []schemas.Sample{
			{Kind: schemas.KindGauge, Metric: schemas.MetricPSUInVoltage, Keys: "name=PSU1", F64: v},
			{Kind: schemas.KindGauge, Metric: schemas.MetricPSUInCurrent, Keys: "name=PSU1", F64: a},
		}
	})
}

// TestDetectMultivarOutlier: a multivariate group of a power supply's
// input voltage and current, whose current reads 0 (-0, or the smallest
// float), ±1e300 or math.MaxFloat64 once, fires on the supply's current
// rising 10 % 200 ticks later as it does without the bad reading. Before,
// a vector off the model was learned when its run fired nothing: a
// reading of 0 widened the covariance by its square, and the rise 33
// minutes later fired nothing; one of 1e300 or more left the covariance
// infinite, the group blind for good.
func TestDetectMultivarOutlier(t *testing.T) {
	cfg := Config{Multivar: MultivarConfig{Groups: []MultivarGroup{
		{Name: "psu-input", Metrics: []string{schemas.MetricPSUInVoltage, schemas.MetricPSUInCurrent}},
	}}}
	const n, at, from, to = 800, 500, 700, 760
	group := func(recs []*kgo.Record) []string {
		var out []string
		for _, s := range summary(process(t, newTestDetect(t, cfg), recs)) {
			if strings.Contains(s, "multivar/") || strings.Contains(s, "mahalanobis") {
				out = append(out, s)
			}
		}
		return out
	}
	want := group(psuRecords(t, n, -1, 0, from, to))
	if len(want) != 2 {
		t.Fatalf("without a bad reading: %v, want the rise firing and resolved", want)
	}
	for _, bad := range []float64{math.Copysign(0, -1), math.SmallestNonzeroFloat64, 1e300, -1e300, math.MaxFloat64} {
		if got := group(psuRecords(t, n, at, bad, from, to)); !slices.Equal(got, want) {
			t.Errorf("a current of %v at %d: %v, want %v", bad, at, got, want)
		}
	}
}
