package maintain

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// TestMaintainRestoredThresholdAhead: a changelog written by an earlier
// build, in which one device threshold of sim-01 (alone in its
// partition; its degrading Ethernet2 readings stop at minute 120) came
// stamped a year ahead at minute 40, is restored at minute 60. Before
// d661818 that threshold set sim-01's offset a year back (and dated its
// series when the series had no readings); from d661818 to this fix it
// dated a series without readings a year ahead. Restored, the stage
// corrects them before its first record, with one WARN line: its events
// from minute 60 on (the two cases' stale closes at 150) and its
// changelog at minute 200 are those of the threshold on time. Before, the
// offset placed every sample of sim-01 a year back, so the partition's
// clock stood still and no case closed; and a series dated a year ahead
// kept its changelog record with that stamp, never judged silent.
func TestMaintainRestoredThresholdAhead(t *testing.T) {
	const ticks, at, cut = 200, 40, 60
	far := skewStart.Add(at*time.Minute + 365*24*time.Hour).UnixNano()
	for _, c := range []struct {
		name   string
		metric string // the metric whose samples at minute `at` (every minute: all) are thresholds
		every  bool
		placed bool // the threshold placed its device (before d661818)
	}{
		{"offset, series with readings", schemas.MetricOpticInputPower, false, true},
		{"offset, series of thresholds only", schemas.MetricOpticLaserBias, true, true},
		{"series of thresholds only", schemas.MetricOpticLaserBias, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			thr := map[string]string{schemas.MetricOpticInputPower: schemas.MetricThresholdInPowerLower, schemas.MetricOpticLaserBias: schemas.MetricThresholdBiasUpper}[c.metric]
			const comp = "name=Ethernet1-transceiver"
			recs := func(dropAt bool) []*kgo.Record {
				return stagetest.FleetTicks(t, degradingOptic(t), ticks, func(i int, s *schemas.Sample) bool {
					if s.Device != stepDevice || i >= 120 && strings.Contains(s.Keys, "Ethernet2") {
						return false
					}
					s.Keys = strings.TrimSuffix(s.Keys, ",severity=CRITICAL") // the fleet sets a transceiver's keys once
					s.TS = skewStart.Add(time.Duration(i) * time.Minute).UnixNano()
					if s.Metric == c.metric && s.Keys == comp && (c.every || i == at) {
						if dropAt && i == at {
							return false
						}
						s.Metric, s.Keys, s.F64 = thr, comp+",severity=CRITICAL", 20
					}
					return true
				})
			}
			onTime := recs(false)
			want, wantLog := thresholdRun(t, staleStage(t), onTime)
			wantFrom, _ := thresholdRun(t, staleStage(t), onTime[:cut])
			want = want[len(wantFrom):]
			if len(closes(want)) != 2 {
				t.Fatalf("on time, cases closed after minute %d: %v, want sim-01's two stale", cut, closes(want))
			}

			// The earlier build: the threshold at minute `at` taken as its
			// Process took it (the tracker observes it at its stamp; before
			// d661818 the stage placed it too), the rest as now.
			old := staleStage(t)
			changelog := map[string][]byte{}
			for i, r := range recs(true)[:cut] {
				if err := old.Process(context.Background(), r, func(*kgo.Record) {}); err != nil {
					t.Fatal(err)
				}
				if i == at {
					p := old.parts[0]
					p.t.Observe(far, stepDevice, thr, comp+",severity=CRITICAL", 20)
					if c.placed {
						p.devs.Place(&p.clock, p.devs.Lookup(stepDevice), stepDevice, far)
					}
				}
				apply(changelog, checkpoint(old))
			}

			var logs bytes.Buffer
			m := staleStage(t)
			m.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			for k, v := range changelog {
				if err := m.Restore(0, []byte(k), v); err != nil {
					t.Fatal(err)
				}
			}
			got, _ := thresholdRun(t, m, onTime[cut:], changelog)
			if !slices.Equal(got, want) {
				t.Errorf("events after the restore:\n%v\nwant those of the threshold on time:\n%v", got, want)
			}
			if !maps.EqualFunc(changelog, wantLog, bytes.Equal) {
				t.Errorf("changelog at minute %d differs from the threshold on time's:\n%v\nwant\n%v", ticks, describe(changelog), describe(wantLog))
			}
			warns := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(warns) != 1 || !strings.Contains(warns[0], "level=WARN") || !strings.Contains(warns[0], "device="+stepDevice) {
				t.Errorf("log %q, want one WARN line about %s", warns, stepDevice)
			}
		})
	}
}

// describe returns a changelog's keys with the lengths of their values,
// for a failure message (binary values, one a line).
func describe(changelog map[string][]byte) string {
	var out []string
	for k, v := range changelog {
		out = append(out, fmt.Sprintf("%q: %x", k, v))
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}
