package maintain

import (
	"context"
	"fmt"
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

// staleStage returns newOpticStage's stage with Stale 30m, so a silent
// series is forgotten 5 h after its last sample.
func staleStage(t testing.TB) *Stage {
	t.Helper()
	var cfg Config
	cfg.Model = maintenance.Config{Bucket: 5 * time.Minute, Window: 24, MinBuckets: 6, MinFit: 6, Baseline: 6, Horizon: 24 * time.Hour, Season: 15 * time.Minute,
		Signals: maintenance.DefaultSignals()[:2], Stale: 30 * time.Minute}
	m, err := New(cfg, "maintenance", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// thresholdRun runs recs through m, one transaction a record, and returns
// its events with their thresholds, one a line, and the changelog: from
// one, when given, else from none.
func thresholdRun(t *testing.T, m *Stage, recs []*kgo.Record, from ...map[string][]byte) (events []string, changelog map[string][]byte) {
	t.Helper()
	changelog = map[string][]byte{}
	if len(from) > 0 {
		changelog = from[0]
	}
	for _, r := range recs {
		if err := m.Process(context.Background(), r, func(o *kgo.Record) {
			e, err := schemas.DecodeMaintenance(nil, o.Value)
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, fmt.Sprintf("%d %s %s %s %s %s %g %s", e.EventTime.UnixNano(), e.Device, e.Component, e.Signal, e.State, e.CloseReason,
				e.Threshold, e.ThresholdSource))
		}); err != nil {
			t.Fatal(err)
		}
		apply(changelog, checkpoint(m))
	}
	return events, changelog
}

// keysOf returns the changelog keys that name dev.
func keysOf(changelog map[string][]byte, dev string) []string {
	var out []string
	for k := range changelog {
		if strings.Contains(k, dev+"\x00") || strings.HasSuffix(k, "\x00"+dev) {
			out = append(out, fmt.Sprintf("%q", k))
		}
	}
	slices.Sort(out)
	return out
}

// TestMaintainThresholdOnlyAhead: sim-01 reports its Ethernet1
// transceiver's laser bias only as its device threshold (a series that
// only ever gets thresholds), every minute, one of them (minute 40)
// stamped a year ahead, while its other readings go on at the present;
// at minute 120 it goes silent. As with the threshold on time, its series
// are forgotten 5 h later (10 × stale), the device with them, and the
// changelog holds nothing of it. Before, the threshold-only series kept
// the stamp a year ahead: it was never judged silent, so it, its
// changelog record and its device were held for a year.
func TestMaintainThresholdOnlyAhead(t *testing.T) {
	run := func(shift time.Duration) ([]string, map[string][]byte, *Stage) {
		recs := stagetest.FleetTicks(t, degradingOptic(t), 460, func(i int, s *schemas.Sample) bool {
			if s.Device == stepDevice && i >= 120 {
				return false
			}
			s.TS = skewStart.Add(time.Duration(i) * time.Minute).UnixNano()
			if s.Device == stepDevice && s.Metric == schemas.MetricOpticLaserBias && s.Keys == "name=Ethernet1-transceiver" {
				s.Metric, s.Keys, s.F64 = schemas.MetricThresholdBiasUpper, s.Keys+",severity=CRITICAL", 20
				if i == 40 {
					s.TS += int64(shift)
				}
			}
			return true
		})
		m := staleStage(t)
		events, changelog := thresholdRun(t, m, recs)
		return events, changelog, m
	}
	want, _, on := run(0)
	if on.parts[0].devs.Lookup(stepDevice) != nil || slices.ContainsFunc(on.Tracker(0).Keys(), func(k schemas.SeriesKey) bool { return k.Device == stepDevice }) {
		t.Fatalf("on time, %s is still known 5 h after it went silent", stepDevice)
	}
	got, changelog, m := run(365 * 24 * time.Hour)
	if !slices.Equal(got, want) {
		t.Errorf("events with the threshold a year ahead:\n%v\nwant those with it on time:\n%v", got, want)
	}
	var held []string
	for _, k := range m.Tracker(0).Keys() {
		if k.Device == stepDevice {
			held = append(held, k.String())
		}
	}
	if len(held) != 0 || m.parts[0].devs.Lookup(stepDevice) != nil {
		t.Errorf("5 h after %s went silent the tracker holds %v (device known: %v), want nothing of it", stepDevice, held, m.parts[0].devs.Lookup(stepDevice) != nil)
	}
	if ks := keysOf(changelog, stepDevice); len(ks) != 0 {
		t.Errorf("the changelog holds %v, want nothing of %s", ks, stepDevice)
	}
}

// TestMaintainThresholdBeforeReadingsAhead: sim-01's first sample of its
// degrading Ethernet2 receive power (minute 0) is its device threshold
// (CRITICAL, -7.5 dBm), stamped a year ahead; its readings follow from
// minute 1. The threshold is used: its cases carry it (source device),
// as with it on time. When sim-01 goes silent at minute 120 its open
// cases close as stale 30 minutes later, as on time. Before, the series
// kept the threshold's stamp as its latest sample's once its readings
// came: it was never judged silent, and its cases stayed open for a year.
func TestMaintainThresholdBeforeReadingsAhead(t *testing.T) {
	run := func(shift time.Duration) []string {
		recs := stagetest.FleetTicks(t, degradingOptic(t), 200, func(i int, s *schemas.Sample) bool {
			if s.Device == stepDevice && i >= 120 {
				return false
			}
			s.Keys = strings.TrimSuffix(s.Keys, ",severity=CRITICAL") // the fleet sets a transceiver's keys once
			s.TS = skewStart.Add(time.Duration(i) * time.Minute).UnixNano()
			if i == 0 && s.Device == stepDevice && s.Metric == schemas.MetricOpticInputPower && s.Keys == "name=Ethernet2-transceiver" {
				s.Metric, s.Keys, s.F64 = schemas.MetricThresholdInPowerLower, s.Keys+",severity=CRITICAL", -7.5
				s.TS += int64(shift)
			}
			return true
		})
		events, _ := thresholdRun(t, staleStage(t), recs)
		return events
	}
	want := run(0)
	var device, stale int
	for _, l := range want {
		if strings.Contains(l, "optic_rx_power") && strings.HasSuffix(l, " -7.5 "+schemas.ThresholdDevice) {
			device++
		}
		if strings.Contains(l, " "+schemas.CloseStale+" ") {
			stale++
		}
	}
	if device == 0 || stale != 2 {
		t.Fatalf("with the threshold on time: %d rx events on the device's threshold, %d stale closes, want some and 2: %v", device, stale, want)
	}
	if got := run(365 * 24 * time.Hour); !slices.Equal(got, want) {
		t.Errorf("events with the threshold a year ahead:\n%v\nwant those with it on time:\n%v", got, want)
	}
}
