package maintain

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
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

// skewStart is the fleet's start in the skew tests.
var skewStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// skewRecords is degradingOptic's fleet for ticks minutes, every row's
// time set (the fleet reuses one sample) and moved by shift for a device
// from a tick on, and a device's rows dropped from a tick on (stop).
func skewRecords(t testing.TB, ticks int, shift func(dev string, tick int) time.Duration, stop func(dev string, tick int) bool) []*kgo.Record {
	t.Helper()
	return stagetest.FleetTicks(t, degradingOptic(t), ticks, func(i int, s *schemas.Sample) bool {
		if stop != nil && stop(s.Device, i) {
			return false
		}
		s.TS = skewStart.Add(time.Duration(i)*time.Minute + shift(s.Device, i)).UnixNano()
		return true
	})
}

// process runs recs through m and returns its events (DetectedAt, the
// wall clock, cleared), one a line.
func process(t testing.TB, m *Stage, recs []*kgo.Record) []string {
	t.Helper()
	var out []string
	for _, r := range recs {
		if err := m.Process(context.Background(), r, func(o *kgo.Record) {
			e, err := schemas.DecodeMaintenance(nil, o.Value)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%d %s %s %s %s %s", e.EventTime.UnixNano(), e.Device, e.Component, e.Signal, e.State, e.CloseReason))
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// checkpoint returns m's checkpoint records (a tombstone: nil).
func checkpoint(m *Stage) map[string][]byte {
	out := map[string][]byte{}
	m.Checkpoint(func(_ int32, k, v []byte) { out[string(k)] = v })
	return out
}

// apply applies a checkpoint to a changelog.
func apply(changelog, ckpt map[string][]byte) {
	for k, v := range ckpt {
		if v == nil {
			delete(changelog, k)
		} else {
			changelog[k] = v
		}
	}
}

// TestMaintainAheadDeviceClosesNoLiveCase: one device of a partition
// whose clock is set 30 days ahead mid-life is placed on the partition's
// clock, so the open cases of the other device, which reports every
// minute, are not closed as stale. Before, its jump moved the
// partition's clock, and the next sweep closed sim-01's two open cases
// as stale (and would have forgotten their series).
func TestMaintainAheadDeviceClosesNoLiveCase(t *testing.T) {
	const skewFrom = 100 // sim-01's cases are open (80 and 85 minutes)
	recs := skewRecords(t, 160, func(dev string, i int) time.Duration {
		if dev == "sim-00" && i >= skewFrom {
			return 30 * 24 * time.Hour
		}
		return 0
	}, nil)
	want := process(t, newOpticStage(t), skewRecords(t, 160, func(string, int) time.Duration { return 0 }, nil))
	got := process(t, newOpticStage(t), recs)
	if !slices.Equal(got, want) {
		t.Errorf("events with sim-00 ahead from %d:\n%v\nwant those of the fleet on time:\n%v", skewFrom, got, want)
	}
}

// TestMaintainBehindDeviceWarms: a device first seen 20 years behind the
// partition's clock (an RTC reset) keeps its series and opens and closes
// its cases as it would on time, in its own time. Before, each sweep
// judged it 20 years silent: its cases closed as stale at once, and it
// never warmed up.
func TestMaintainBehindDeviceWarms(t *testing.T) {
	const behind = 20 * 365 * 24 * time.Hour
	recs := skewRecords(t, 160, func(dev string, i int) time.Duration {
		if dev == "sim-01" {
			return -behind
		}
		return 0
	}, nil)
	want := process(t, newOpticStage(t), skewRecords(t, 160, func(string, int) time.Duration { return 0 }, nil))
	for i, line := range want {
		want[i] = shiftLine(t, line, -behind)
	}
	got := process(t, newOpticStage(t), recs)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("events with sim-01 20 years behind:\n%v\nwant those on time, 20 years earlier:\n%v", got, want)
	}
}

// shiftLine moves the event time of an event line of process by d.
func shiftLine(t testing.TB, line string, d time.Duration) string {
	t.Helper()
	at, rest, _ := strings.Cut(line, " ")
	ns, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		t.Fatalf("event line %q: %v", line, err)
	}
	return fmt.Sprintf("%d %s", ns+int64(d), rest)
}

// TestMaintainSkewRestore: a restore at any record of a partition with a
// device 20 years behind from its first sample, one whose clock jumps 30
// days ahead at 100 and stops at 120 with its cases open (closed as stale
// in its own time 30 minutes later, forgotten with its offset 5 hours
// later), continues with the same events and state as the uninterrupted
// run: the offsets are in the changelog.
func TestMaintainSkewRestore(t *testing.T) {
	recs := skewRecords(t, 450, func(dev string, i int) time.Duration {
		switch {
		case dev == "sim-00":
			return -20 * 365 * 24 * time.Hour
		case i >= 100:
			return 30 * 24 * time.Hour
		}
		return 0
	}, func(dev string, i int) bool { return dev == "sim-01" && i >= 120 })
	newStage := func() *Stage {
		var cfg Config
		cfg.Model = maintenance.Config{Bucket: 5 * time.Minute, Window: 24, MinBuckets: 6, MinFit: 6, Baseline: 6, Horizon: 24 * time.Hour, Season: 15 * time.Minute,
			Signals: maintenance.DefaultSignals()[:2], Stale: 30 * time.Minute}
		m, err := New(cfg, "maintenance", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	whole := newStage()
	var want []string
	upTo := make([]int, len(recs)) // events up to each record
	changelogs := make([]map[string][]byte, len(recs))
	changelog := map[string][]byte{}
	for i, r := range recs {
		want = append(want, process(t, whole, []*kgo.Record{r})...)
		upTo[i] = len(want)
		apply(changelog, checkpoint(whole))
		changelogs[i] = maps.Clone(changelog)
	}
	stale := 0
	for _, line := range want {
		if strings.HasSuffix(line, " "+schemas.CloseStale) {
			stale++
		}
	}
	if stale != 2 {
		t.Fatalf("%d cases closed as stale, want sim-01's two: %v", stale, want)
	}
	if ds := &whole.part(0).devs; ds.Len() != 1 {
		t.Fatalf("devices %v, want sim-00 (sim-01 forgotten after 10 × stale)", ds.Names())
	}
	if _, ok := changelogs[110][maintainOffsetKeyPrefix+"sim-01"]; !ok {
		t.Fatal("no offset record of sim-01 in the changelog")
	}
	if _, ok := changelog[maintainOffsetKeyPrefix+"sim-01"]; ok {
		t.Fatal("the offset record of sim-01, forgotten, has no tombstone")
	}
	for cut := range len(recs) - 1 {
		if cut%5 != 0 && (cut < 95 || cut > 160) && (cut < 410 || cut > 430) {
			continue // around the jump, the stop, the stale closes and the forgetting; every fifth elsewhere
		}
		m := newStage()
		for k, v := range changelogs[cut] {
			if err := m.Restore(0, []byte(k), v); err != nil {
				t.Fatal(err)
			}
		}
		got := process(t, m, recs[cut+1:])
		apply(changelogs[cut], checkpoint(m))
		if tail := want[upTo[cut]:]; !slices.Equal(got, tail) {
			t.Fatalf("restored after record %d: %v\nwant %v", cut, got, tail)
		}
		if !maps.EqualFunc(changelogs[cut], changelog, func(a, b []byte) bool { return string(a) == string(b) }) {
			t.Fatalf("restored after record %d: the changelog differs from the uninterrupted run's", cut)
		}
	}
}

// TestMaintainRestoresWithoutOffsets: a changelog written before the
// offsets (none of their records) restores, every device at offset 0, as
// that build had them; an offset record this build cannot decode is a
// one-line error naming the device.
func TestMaintainRestoresWithoutOffsets(t *testing.T) {
	recs := skewRecords(t, 120, func(dev string, i int) time.Duration {
		if dev == "sim-00" && i >= 60 {
			return 30 * 24 * time.Hour
		}
		return 0
	}, nil)
	a := newOpticStage(t)
	process(t, a, recs[:100])
	changelog := checkpoint(a)
	if changelog[maintainOffsetKeyPrefix+"sim-00"] == nil {
		t.Fatal("no offset record of sim-00")
	}
	delete(changelog, maintainOffsetKeyPrefix+"sim-00")
	b := newOpticStage(t)
	for k, v := range changelog {
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	if ds := &b.part(0).devs; ds.Len() != 2 || ds.Offset("sim-00") != 0 {
		t.Errorf("restored devices %v, sim-00 at offset %d; want both, at 0", ds.Names(), ds.Offset("sim-00"))
	}
	// Its next sample is ahead of the restored clock: placed on it again.
	if got, want := process(t, b, recs[100:]), process(t, a, recs[100:]); !slices.Equal(got, want) {
		t.Errorf("events after the restore: %v, want %v", got, want)
	}
	err := newOpticStage(t).Restore(0, []byte(maintainOffsetKeyPrefix+"sim-00"), []byte{9, 1})
	if err == nil || err.Error() != "maintain: clock offset of device sim-00: record of 2 bytes is not of version 1, 2 or 3" {
		t.Errorf("an offset record of another version: %v", err)
	}
}
