package detect

import (
	"bytes"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// TestDuplicateGaugeSample: a sample repeated (the same series and
// timestamp again, as a producer's retry or a collector's re-send gives),
// or an older one, is ignored on a gauge as on a counter (rate.Stale: "a
// repeat or out of order"): the state is the stage's that saw each once.
// Before, a gauge's repeat was scored into its ensemble again.
func TestDuplicateGaugeSample(t *testing.T) {
	const n = 300
	build := func(dup bool) []*kgo.Record {
		var recs []*kgo.Record
		sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
		defer sb.Release()
		for i := range n {
			ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
			g := schemas.Sample{TS: ts, Device: dev, Source: schemas.SourceGNMI, Metric: "/system/memory/state/used", Kind: schemas.KindGauge, F64: 4e9 + float64(i%5)*1e6}
			c := schemas.Sample{TS: ts, Device: dev, Source: schemas.SourceGNMI, Metric: nativeClock, Keys: xrIfKeys, Kind: schemas.KindCounter, U64: uint64(1e12) + uint64(i)*12_500_000 + uint64(i%7)*100_000}
			sb.Append(&g)
			sb.Append(&c)
			recs = append(recs, recordOf(t, sb))
			if dup && i%10 == 9 {
				// The record again, as a retry re-sends it.
				sb.Append(&g)
				sb.Append(&c)
				recs = append(recs, recordOf(t, sb))
			}
		}
		return recs
	}
	once, twice := newTestDetect(t, Config{}), newTestDetect(t, Config{})
	process(t, once, build(false))
	process(t, twice, build(true))
	a, b := once.SeriesStates(), twice.SeriesStates()
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			t.Errorf("%s %s: the state differs when some of its samples came twice (kind %s)", k.Metric, k.Keys, map[bool]string{true: "gauge", false: "counter"}[k.Metric == "/system/memory/state/used"])
		}
	}
}
