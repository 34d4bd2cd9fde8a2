package power

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// TestPowerStampedWithLastChange: a device that stamps its PSU readings
// with their last change (PSU1 changed at 00:00, PSU2 at 00:02) re-sends
// them each minute with those stamps (a gNMI target without dedup), first
// in each record, before its counters on time: the readings, ever further
// behind its latest sample, are no clock stepping back, and nothing is
// logged; every window of its ports' utilisation is that of on time.
// Before, the re-sends, two minutes apart and behind the device's latest
// from the record before, were taken for a step every other record (53
// WARN lines in 2 h): each dropped the open window (none written from
// 00:15) and restarted the counters' rates.
func TestPowerStampedWithLastChange(t *testing.T) {
	const ticks = 120
	start, _ := time.Parse(time.DateOnly, expiryStart)
	want, _, _ := stepRun(t, skewRecords(t, ticks, onTime, nil), 0)
	fleet, err := sim.New(sim.Config{Devices: 3, Interfaces: 4, Start: start, Interval: time.Minute, Power: true})
	if err != nil {
		t.Fatal(err)
	}
	psu := func(s *schemas.Sample) bool {
		return s.Device == stepDevice && strings.HasPrefix(s.Metric, "/components/component/power-supply/")
	}
	first := map[string]float64{}
	hs := kafka.RecordHeaders(schemas.SamplesHeaders())
	var recs []*kgo.Record
	for i := range ticks {
		var tick []schemas.Sample
		fleet.Next(func(s *schemas.Sample) {
			s.TS = start.Add(time.Duration(i) * time.Minute).UnixNano()
			if psu(s) {
				changed := start
				if strings.Contains(s.Keys, "PSU2") {
					changed = start.Add(2 * time.Minute)
				}
				s.TS = changed.UnixNano()
				k := s.Metric + s.Keys
				if _, ok := first[k]; !ok {
					first[k] = s.F64
				}
				s.F64 = first[k] // a steady reading
			}
			tick = append(tick, *s)
		})
		slices.SortStableFunc(tick, func(a, b schemas.Sample) int {
			switch pa, pb := psu(&a), psu(&b); {
			case pa && !pb:
				return -1
			case pb && !pa:
				return 1
			}
			return 0
		})
		b := schemas.NewSampleBuilder(memory.NewGoAllocator())
		for j := range tick {
			b.Append(&tick[j])
		}
		rec := b.NewRecord()
		val, err := schemas.EncodeSamples(nil, rec)
		rec.Release()
		b.Release()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: "samples", Value: val, Headers: hs})
	}
	got, _, warns := stepRun(t, recs, 0)
	for w := range want {
		if g, ok := got[w]; ok {
			want[w] = stepWindow{measured: g.measured, util: want[w].util} // the readings differ
		}
	}
	if diffs := stepDiffs(got, want, start.Add(15*time.Minute)); len(diffs) > 0 {
		t.Errorf("%d windows of %s differ from on time:\n%s", len(diffs), stepDevice, strings.Join(diffs, "\n"))
	}
	if len(warns) != 0 {
		t.Errorf("%d WARN lines, want none; the first: %s", len(warns), warns[0])
	}
}
