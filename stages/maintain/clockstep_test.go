package maintain

import (
	"bytes"
	"log/slog"
	"maps"
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

// stepDevice is the device whose clock steps in these tests: sim-01,
// whose optic degrades (degradingOptic).
const stepDevice = "sim-01"

// stepProcess runs recs through newOpticStage's model and returns the
// events (process) of the records from `from` on and the WARN lines
// logged.
func stepProcess(t *testing.T, recs []*kgo.Record, from int) (events, warns []string) {
	t.Helper()
	var logs bytes.Buffer
	var cfg Config
	cfg.Model = maintenance.Config{Bucket: 5 * time.Minute, Window: 24, MinBuckets: 6, MinFit: 6, Baseline: 6, Horizon: 24 * time.Hour, Season: 15 * time.Minute,
		Signals: maintenance.DefaultSignals()[:2]}
	m, err := New(cfg, "maintenance", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	process(t, m, recs[:from])
	events = process(t, m, recs[from:])
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, "level=WARN") {
			warns = append(warns, l)
		}
	}
	return events, warns
}

// closes returns the lines of events that close a case.
func closes(events []string) []string {
	return slices.DeleteFunc(slices.Clone(events), func(l string) bool { return !strings.Contains(l, " "+schemas.MaintenanceClosed+" ") })
}

// TestMaintainClockStepsBack: sim-01, whose clock ran 3 h ahead while its
// optic's cases opened, is set right at minute 100 (NTP's first sync):
// its series take its samples again a minute later, and the cases close
// as failed when the optic fails, at the times they do on time (145 and
// 150 minutes), not as stale; one WARN line says its clock stepped back.
// Before, every series of the device ignored its samples until its time
// passed their open buckets, 3 h later: the cases stayed open without a
// reading as the optic failed.
func TestMaintainClockStepsBack(t *testing.T) {
	const ticks, step = 300, 100
	want, _ := stepProcess(t, skewRecords(t, ticks, func(string, int) time.Duration { return 0 }, nil), step)
	recs := skewRecords(t, ticks, func(dev string, i int) time.Duration {
		if dev == stepDevice && i < step {
			return 3 * time.Hour
		}
		return 0
	}, nil)
	got, warns := stepProcess(t, recs, step)
	if w := closes(want); len(w) != 2 || !slices.Equal(closes(got), w) {
		t.Errorf("cases closed after the step:\n%v\nwant those on time:\n%v", closes(got), w)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "clock stepped back") || !strings.Contains(warns[0], "device="+stepDevice) {
		t.Errorf("WARN lines %q, want one saying %s's clock stepped back", warns, stepDevice)
	}
	stepRestores(t, recs, []int{step - 1, step, step + 1, step + 2, step + 10, step + 45})
}

// stepRestores checks that a stage restored from the changelog of one
// that took recs up to each of cuts (one record a transaction) makes the
// same events and changelog (after each record) as the one that goes on.
func stepRestores(t *testing.T, recs []*kgo.Record, cuts []int) {
	t.Helper()
	whole := newOpticStage(t)
	var want []string
	upTo := map[int]int{}
	changelogs := map[int]map[string][]byte{}
	changelog := map[string][]byte{}
	for i := range recs {
		want = append(want, process(t, whole, recs[i:i+1])...)
		apply(changelog, checkpoint(whole))
		upTo[i+1], changelogs[i+1] = len(want), maps.Clone(changelog)
	}
	for _, cut := range cuts {
		m := newOpticStage(t)
		for k, v := range changelogs[cut] {
			if err := m.Restore(0, []byte(k), v); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		log := changelogs[cut]
		for i := cut; i < len(recs); i++ {
			got = append(got, process(t, m, recs[i:i+1])...)
			apply(log, checkpoint(m))
			if !maps.EqualFunc(log, changelogs[i+1], bytes.Equal) {
				t.Errorf("restored after record %d: the changelog after record %d differs from the uninterrupted run's", cut, i+1)
				break
			}
		}
		if tail := want[upTo[cut]:]; !slices.Equal(got, tail) {
			t.Errorf("restored after record %d: %v\nwant %v", cut, got, tail)
		}
	}
}

// TestMaintainClockOutlierSample: one optic reading of sim-01 stamped a
// year ahead (minute 40, a garbled timestamp) blinds its series for about
// a minute, not a year: its cases open, update and close as on time. A
// reading stamped 3 h behind, alone among readings on time, is no step:
// the events are those of on time and nothing is logged. Before, the
// reading ahead left the optic's series ignoring every later one for a
// year: its case never opened.
func TestMaintainClockOutlierSample(t *testing.T) {
	const ticks, at = 200, 40
	want, _ := stepProcess(t, skewRecords(t, ticks, func(string, int) time.Duration { return 0 }, nil), 0)
	for _, c := range []struct {
		name  string
		shift time.Duration
		warns int
	}{{"a year ahead", 365 * 24 * time.Hour, 1}, {"3 h behind", -3 * time.Hour, 0}} {
		t.Run(c.name, func(t *testing.T) {
			recs := stagetest.FleetTicks(t, degradingOptic(t), ticks, func(i int, s *schemas.Sample) bool {
				s.TS = skewStart.Add(time.Duration(i) * time.Minute).UnixNano()
				if i == at && s.Device == stepDevice && s.Metric == schemas.MetricOpticInputPower && s.Keys == "name=Ethernet2-transceiver" {
					s.TS += int64(c.shift)
				}
				return true
			})
			got, warns := stepProcess(t, recs, 0)
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("events:\n%v\nwant those on time:\n%v", got, want)
			}
			if len(warns) != c.warns {
				t.Errorf("WARN lines %q, want %d", warns, c.warns)
			}
		})
	}
}
