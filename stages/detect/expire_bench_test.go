package detect

import (
	"fmt"
	"testing"
	"time"

	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
)

// BenchmarkExpireSweep measures the selection of a series_expiry sweep
// (expired) on a partition of 1 000 devices of 30 counters each, nothing
// due: "counters" without state series; "silent-states" with 10 state
// series per device as well, silent for longer than the expiry while
// their device reports (every sweep reads the partition once more);
// "baseline" is the selection before state series could expire (one pass
// over the counters and gauges) on the silent-states partition. Per op:
// one sweep, which runs once per eighth of series_expiry (3 h by default).
func BenchmarkExpireSweep(b *testing.B) {
	const devices, counters, states = 1000, 30, 10
	cutoff := t0.Add(24 * time.Hour).UnixNano()
	build := func(withStates bool) *partState {
		ps := &partState{series: map[schemas.SeriesKey]*seriesState{}}
		cfg := stateevents.Config{}.WithDefaults()
		for d := range devices {
			dev := fmt.Sprintf("dev-%04d", d)
			dv := ps.exp.devs.Restored(dev) // on the partition's clock: every series has its device
			for c := range counters {
				st := &seriesState{kind: schemas.KindCounter, e: new(ensemble.Ensemble), dev: dv}
				st.counter.LastTS = cutoff + int64(time.Minute)
				st.key = schemas.SeriesKey{Device: dev, Metric: schemas.MetricInOctets, Keys: fmt.Sprintf("name=e%d", c)}
				ps.series[st.key] = st
			}
			for s := range states {
				if !withStates {
					break
				}
				st := &seriesState{kind: schemas.KindState, se: stateevents.New(stateevents.ClassOperStatus), dev: dv}
				st.se.UpdateStatus(&cfg, t0.UnixNano(), "UP", false)
				st.key = schemas.SeriesKey{Device: dev, Metric: stateevents.MetricOperStatus, Keys: fmt.Sprintf("name=e%d", s)}
				ps.series[st.key] = st
			}
		}
		return ps
	}
	for _, bc := range []struct {
		name  string
		ps    *partState
		sweep func(*partState) int
	}{
		{"counters", build(false), func(ps *partState) int { keys, _ := expired(ps, cutoff); return len(keys) }},
		{"silent-states", build(true), func(ps *partState) int { keys, _ := expired(ps, cutoff); return len(keys) }},
		{"baseline", build(true), func(ps *partState) int {
			var keys []schemas.SeriesKey
			for k, st := range ps.series {
				if st.e != nil && st.seen() < cutoff && st.seen() != 0 {
					keys = append(keys, k)
				}
			}
			return len(keys)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if n := bc.sweep(bc.ps); n != 0 {
					b.Fatalf("%d series expired, want none", n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(bc.ps.series)), "ns/series")
		})
	}
}
