package detect

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// TestDetectMultivarGroupExpiresWithItsSeries: r1's in and out octets
// (a multivariate group) move together for 600 ticks, then in-octets
// alone climbs fivefold (the group's alert fires) until r1 stops, while
// r2 reports on. When the sweep drops r1's series (series_expiry 1h),
// the group's alert is resolved at its series' last sample plus the
// expiry, with the firing detection's fingerprint, and the group goes
// with its series: out of memory, and a tombstone in the next
// checkpoint. Before, the group stayed in memory and in the changelog for
// ever, and its alert fired for ever.
func TestDetectMultivarGroupExpiresWithItsSeries(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	var recs []*kgo.Record
	const stop = 660
	var in, out uint64
	for i := range 1500 {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		if i < stop {
			r := 1e6 * (1 + 0.05*rng.NormFloat64())
			o := r * (1 + 0.01*rng.NormFloat64())
			if i >= 600 {
				r *= 5
			}
			in, out = in+uint64(10*r), out+uint64(10*o)
			for _, c := range []struct {
				metric string
				v      uint64
			}{{schemas.MetricInOctets, in}, {schemas.MetricOutOctets, out}} {
				sb.Append(&schemas.Sample{TS: ts, Device: "r1", Kind: schemas.KindCounter, Metric: c.metric, Keys: "name=e1", U64: c.v, Source: schemas.SourceGNMI})
			}
		}
		sb.Append(&schemas.Sample{TS: ts, Device: "r2", Kind: schemas.KindGauge, Metric: "/system/cpu", F64: 10 + rng.NormFloat64(), Source: schemas.SourceGNMI})
		recs = append(recs, recordOf(t, sb))
	}
	cfg := multivarConfig()
	cfg.SeriesExpiry = time.Hour
	d := newTestDetect(t, cfg)
	var groups []*schemas.Detection
	for _, det := range process(t, d, recs) {
		if strings.HasPrefix(det.Metric, multivarPrefix) {
			groups = append(groups, det)
		}
	}
	last := t0.Add((stop - 1) * 10 * time.Second)
	n := len(groups)
	if n < 2 || groups[n-2].State != schemas.StateFiring || groups[n-1].State != schemas.StateResolved ||
		groups[n-1].Fingerprint != groups[n-2].Fingerprint || !groups[n-1].EventTime.Equal(last.Add(time.Hour)) {
		t.Fatalf("multivariate detections %v, want r1's group fired, then resolved at %v", summary(groups), last.Add(time.Hour))
	}
	gk := schemas.SeriesKey{Device: "r1", Metric: multivarPrefix + "interface-traffic", Keys: "name=e1"}
	if g := d.parts[0].groups[gk]; g != nil {
		t.Error("r1's multivariate group is still held")
	}
	if v, ok := checkpoint(d)[string(pipeline.StateKey(nil, gk))]; !ok || v != nil {
		t.Errorf("checkpoint: r1's group record %q (present %v), want a tombstone", v, ok)
	}
}
