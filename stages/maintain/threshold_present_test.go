package maintain

import (
	"bytes"
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

// presentRun runs recs through staleStage (one transaction a record) and
// returns its events and changelog (thresholdRun) and the WARN lines it
// logged.
func presentRun(t *testing.T, recs []*kgo.Record) (events []string, changelog map[string][]byte, warns []string) {
	t.Helper()
	var logs bytes.Buffer
	m := staleStage(t)
	m.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	events, changelog = thresholdRun(t, m, recs)
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if l != "" {
			warns = append(warns, l)
		}
	}
	return events, changelog, warns
}

// checkPresent runs the records of the threshold on time and a year
// ahead (recs) and fails t unless both make the same events and
// changelog, with no WARN line.
func checkPresent(t *testing.T, recs func(shift time.Duration) []*kgo.Record) {
	t.Helper()
	want, wantLog, warns := presentRun(t, recs(0))
	if len(closes(want)) != 2 || len(warns) != 0 {
		t.Fatalf("with the threshold on time: closes %v, WARN lines %q; want sim-01's two, none", closes(want), warns)
	}
	got, changelog, warns := presentRun(t, recs(365*24*time.Hour))
	if !slices.Equal(got, want) {
		t.Errorf("events with the threshold a year ahead:\n%v\nwant those with it on time:\n%v", got, want)
	}
	if !maps.EqualFunc(changelog, wantLog, bytes.Equal) {
		t.Errorf("changelog with the threshold a year ahead:\n%v\nwant that with it on time:\n%v", describe(changelog), describe(wantLog))
	}
	if len(warns) != 0 {
		t.Errorf("WARN lines %q, want none", warns)
	}
}

// TestMaintainThresholdAheadLaggingDevice: sim-01's clock is 14 minutes
// behind sim-00's (within the tolerance, 15 minutes: offset 0), and its
// first sample of its degrading Ethernet2 receive power is its device
// threshold stamped a year ahead; its readings follow from minute 1. As
// with the threshold on time, its cases open and close and no clock step
// is logged. Before, the threshold dated the series at the partition's
// present, 14 minutes after sim-01's, and kept that date once readings
// came: the next readings, more than 10 minutes behind it, were taken
// for sim-01's clock stepping back (a WARN line, the series' open bucket
// dropped).
func TestMaintainThresholdAheadLaggingDevice(t *testing.T) {
	const lag = 14 * time.Minute
	checkPresent(t, func(shift time.Duration) []*kgo.Record {
		return stagetest.FleetTicks(t, degradingOptic(t), 200, func(i int, s *schemas.Sample) bool {
			s.Keys = strings.TrimSuffix(s.Keys, ",severity=CRITICAL") // the fleet sets a transceiver's keys once
			s.TS = skewStart.Add(time.Duration(i) * time.Minute).UnixNano()
			if s.Device == stepDevice {
				s.TS -= int64(lag)
				if i == 0 && s.Metric == schemas.MetricOpticInputPower && s.Keys == "name=Ethernet2-transceiver" {
					s.Metric, s.Keys, s.F64 = schemas.MetricThresholdInPowerLower, s.Keys+",severity=CRITICAL", -7.5
					s.TS += int64(shift)
				}
			}
			return true
		})
	})
}

// TestMaintainThresholdAheadFreshDevice: sim-01's clock is 6 hours behind
// sim-00's, and its first sample is a device threshold of its Ethernet1
// transceiver's laser bias (a series that only gets thresholds, one a
// minute) stamped a year ahead. sim-01 is placed on the partition's clock
// by its first reading, as with the threshold on time: its optic cases
// open and close in its own time, its threshold-only series is dated in
// its own time (the changelog is that of the threshold on time), and a
// stage restored from its changelog corrects nothing. Before, the
// threshold, taken at the
// partition's present, placed sim-01 there, at offset 0: its readings,
// 6 hours behind, were judged 6 hours silent at every sweep, and its
// series forgotten (10 × stale is 5 hours) before any case could open.
func TestMaintainThresholdAheadFreshDevice(t *testing.T) {
	const behind = 6 * time.Hour
	recs := func(shift time.Duration) []*kgo.Record {
		return stagetest.FleetTicks(t, degradingOptic(t), 200, func(i int, s *schemas.Sample) bool {
			s.Keys = strings.TrimSuffix(s.Keys, ",severity=CRITICAL") // the fleet sets a transceiver's keys once
			s.TS = skewStart.Add(time.Duration(i) * time.Minute).UnixNano()
			if s.Device != stepDevice {
				return true
			}
			s.TS -= int64(behind)
			bias := s.Metric == schemas.MetricOpticLaserBias && s.Keys == "name=Ethernet1-transceiver"
			if i == 0 && !bias {
				return false // the threshold is sim-01's first sample
			}
			if bias {
				s.Metric, s.Keys, s.F64 = schemas.MetricThresholdBiasUpper, s.Keys+",severity=CRITICAL", 20
				if i == 0 {
					s.TS += int64(shift)
				}
			}
			return true
		})
	}
	checkPresent(t, recs)

	// Restored from the changelog after minute 50, the stage goes on as
	// the one that wrote it: the state is this build's, nothing to
	// correct (correctRestored).
	const cut = 50
	ahead := recs(365 * 24 * time.Hour)
	want, wantLog, _ := presentRun(t, ahead)
	head, changelog := thresholdRun(t, staleStage(t), ahead[:cut])
	var logs bytes.Buffer
	m := staleStage(t)
	m.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for k, v := range changelog {
		if err := m.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	got, changelog := thresholdRun(t, m, ahead[cut:], changelog)
	if !slices.Equal(got, want[len(head):]) || !maps.EqualFunc(changelog, wantLog, bytes.Equal) || logs.Len() != 0 {
		t.Errorf("restored after minute %d: events\n%v\nlog %q; want\n%v\nand no line (changelog as the uninterrupted run's: %v)",
			cut, got, logs.String(), want[len(head):], maps.EqualFunc(changelog, wantLog, bytes.Equal))
	}
}
