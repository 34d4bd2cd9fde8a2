package maintain

import (
	"bytes"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// restoresAt checks that staleStage restored from the changelog of one
// that took recs up to each of cuts (one record a transaction) makes the
// same events (thresholdRun's lines) and changelog, after each record, as
// the one that goes on.
func restoresAt(t *testing.T, recs []*kgo.Record, cuts []int) {
	t.Helper()
	whole := staleStage(t)
	var want []string
	upTo := map[int]int{}
	changelogs := map[int]map[string][]byte{}
	changelog := map[string][]byte{}
	for i := range recs {
		events, _ := thresholdRun(t, whole, recs[i:i+1], changelog)
		want = append(want, events...)
		upTo[i+1], changelogs[i+1] = len(want), maps.Clone(changelog)
	}
	for _, cut := range cuts {
		m := staleStage(t)
		for k, v := range changelogs[cut] {
			if err := m.Restore(0, []byte(k), v); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		log := maps.Clone(changelogs[cut])
		differs := 0
		for i := cut; i < len(recs); i++ {
			events, _ := thresholdRun(t, m, recs[i:i+1], log)
			got = append(got, events...)
			if differs == 0 && !maps.EqualFunc(log, changelogs[i+1], bytes.Equal) {
				differs = i + 1
			}
		}
		if differs != 0 {
			t.Errorf("restored after record %d: the changelog after record %d differs from the uninterrupted run's", cut, differs)
		}
		if tail := want[upTo[cut]:]; !slices.Equal(got, tail) {
			t.Errorf("restored after record %d: events\n%v\nwant those of the uninterrupted run:\n%v", cut, got, tail)
		}
	}
}

// TestMaintainRestoreUnplacedDevice: sim-01's clock is 6 hours behind
// sim-00's and its first sample is stamped a year ahead and dates no key
// (taken at the partition's present, placing nothing): a device
// threshold, its readings following a minute later, or a NaN reading,
// which makes no key at all, its readings following two minutes later.
// A stage restored from the changelog between that sample and the first
// reading places sim-01 by that reading, as the uninterrupted one does:
// its events and changelog are the same (the NaN's device, kept without
// a key until the next sweep, is kept so when restored). Before, the
// restored device of the threshold was taken as placed, at offset 0: its
// readings, 6 hours behind, were judged silent at every sweep and its
// series forgotten before any case could open.
func TestMaintainRestoreUnplacedDevice(t *testing.T) {
	const behind = 6 * time.Hour
	for _, c := range []struct {
		name      string
		first     int // sim-01's first tick (sweeps are at multiples of 5)
		readingAt int // its first reading's
		nan       bool
	}{{"threshold", 0, 1, false}, {"NaN reading, no key", 1, 3, true}} {
		t.Run(c.name, func(t *testing.T) {
			recs := stagetest.FleetTicks(t, degradingOptic(t), 200, func(i int, s *schemas.Sample) bool {
				s.Keys = strings.TrimSuffix(s.Keys, ",severity=CRITICAL") // the fleet sets a transceiver's keys once
				s.TS = skewStart.Add(time.Duration(i) * time.Minute).UnixNano()
				if s.Device != stepDevice {
					return true
				}
				s.TS -= int64(behind)
				bias := s.Metric == schemas.MetricOpticLaserBias && s.Keys == "name=Ethernet1-transceiver"
				if i < c.first || i < c.readingAt && !(i == c.first && bias) {
					return false // the sample ahead is sim-01's first, and alone
				}
				switch {
				case c.nan && i == c.first:
					s.F64 = math.NaN()
				case !c.nan && bias:
					s.Metric, s.Keys, s.F64 = schemas.MetricThresholdBiasUpper, s.Keys+",severity=CRITICAL", 20
				}
				if i == c.first {
					s.TS += int64(365 * 24 * time.Hour)
				}
				return true
			})
			var cuts []int
			for i := c.first + 1; i <= c.readingAt+1; i++ {
				cuts = append(cuts, i)
			}
			restoresAt(t, recs, append(cuts, 50))
		})
	}
}
