package maintain

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/maintenance"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/stagetest"
)

// thresholdRecords is degradingOptic's fleet for 200 minutes, with
// dev's Ethernet1 input power reading at minute 40 made its device
// threshold (CRITICAL) stamped shift from its time, and the rows that
// stop reports dropped.
func thresholdRecords(t *testing.T, dev string, shift time.Duration, stop func(s *schemas.Sample, tick int) bool) []*kgo.Record {
	t.Helper()
	return stagetest.FleetTicks(t, degradingOptic(t), 200, func(i int, s *schemas.Sample) bool {
		if stop(s, i) {
			return false
		}
		s.TS = skewStart.Add(time.Duration(i) * time.Minute).UnixNano()
		if i == 40 && s.Device == dev && s.Metric == schemas.MetricOpticInputPower && s.Keys == "name=Ethernet1-transceiver" {
			s.Metric, s.Keys, s.F64 = schemas.MetricThresholdInPowerLower, s.Keys+",severity=CRITICAL", -30
			s.TS += int64(shift)
		}
		return true
	})
}

// TestMaintainThresholdAhead: one device threshold sample stamped a year
// ahead (a garbled timestamp; the tracker keeps no time of a threshold)
// moves neither its device's place on the partition's clock nor the
// clock: sim-01's optic cases, open when its Ethernet2 readings stop at
// minute 120, close as stale 30 minutes later as they do with the
// threshold on time, whether the threshold is sim-00's (sim-01 then
// stops altogether) or sim-01's own, alone in its partition. Before, the
// threshold set its device's offset a year back and no step undid it, so
// the device's samples no longer moved the partition's clock: once
// sim-01 stopped, or while sim-01 was alone, the clock stood still and
// the cases never closed.
func TestMaintainThresholdAhead(t *testing.T) {
	for _, c := range []struct {
		name, dev string
		stop      func(s *schemas.Sample, tick int) bool
	}{
		{"another device's", "sim-00", func(s *schemas.Sample, i int) bool { return s.Device == stepDevice && i >= 120 }},
		{"its own, alone", stepDevice, func(s *schemas.Sample, i int) bool {
			return s.Device != stepDevice || i >= 120 && strings.Contains(s.Keys, "Ethernet2")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := func(shift time.Duration) []string {
				var cfg Config
				cfg.Model = maintenance.Config{Bucket: 5 * time.Minute, Window: 24, MinBuckets: 6, MinFit: 6, Baseline: 6, Horizon: 24 * time.Hour, Season: 15 * time.Minute,
					Signals: maintenance.DefaultSignals()[:2], Stale: 30 * time.Minute}
				m, err := New(cfg, "maintenance", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
				if err != nil {
					t.Fatal(err)
				}
				return process(t, m, thresholdRecords(t, c.dev, shift, c.stop))
			}
			want := run(0)
			stale := slices.DeleteFunc(closes(want), func(l string) bool { return !strings.HasSuffix(l, " "+schemas.CloseStale) })
			if len(stale) != 2 {
				t.Fatalf("with the threshold on time, cases closed as stale: %v, want sim-01's two", stale)
			}
			if got := run(365 * 24 * time.Hour); !slices.Equal(got, want) {
				t.Errorf("events with the threshold a year ahead:\n%v\nwant those with it on time:\n%v", got, want)
			}
		})
	}
}
