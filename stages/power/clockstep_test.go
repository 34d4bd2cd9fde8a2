package power

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// stepDevice is the device whose clock steps in these tests.
const stepDevice = "sim-00"

// stepWindow is a window of stepDevice as the tests compare it: its
// measured power (from the PSUs' readings, as the device sends them) and
// each port's utilisation (from the rates of its byte counters), by
// window start. The modelled power is not compared: the model is shared
// by the partition's devices, and its fit moves with the ticks it saw.
type stepWindow struct {
	measured float64
	util     map[string]float64
}

// stepRun runs recs through a power stage (default device_expiry) and
// returns stepDevice's windows written by the records from `from` on,
// every window start written, and the WARN lines logged.
func stepRun(t *testing.T, recs []*kgo.Record, from int) (windows map[int64]stepWindow, starts []int64, warns []string) {
	t.Helper()
	var logs bytes.Buffer
	p, err := New(Config{}, "power", "detections", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	windows = map[int64]stepWindow{}
	for i, r := range recs {
		err := p.Process(context.Background(), r, func(o *kgo.Record) {
			if o.Topic != "power" || string(o.Key) != stepDevice {
				return
			}
			rows, err := schemas.DecodePower(kafka.Headers(o), o.Value)
			if err != nil {
				t.Fatal(err)
			}
			starts = append(starts, rows[0].WindowStart)
			if i < from {
				return
			}
			w := stepWindow{measured: math.NaN(), util: map[string]float64{}}
			for _, row := range rows {
				switch row.Row {
				case schemas.PowerRowDevice:
					w.measured = row.MeasuredW
				case schemas.PowerRowPort:
					w.util[row.Component] = row.Utilisation
				}
			}
			windows[rows[0].WindowStart] = w
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, "level=WARN") {
			warns = append(warns, l)
		}
	}
	return windows, starts, warns
}

// stepDiffs returns how the windows of got starting at or after since
// depart from want's: missing, or a measured power or utilisation off.
func stepDiffs(got, want map[int64]stepWindow, since time.Time) []string {
	var out []string
	for _, start := range slices.Sorted(maps.Keys(want)) {
		w := want[start]
		at := time.Unix(0, start).UTC()
		if at.Before(since) {
			continue
		}
		g, ok := got[start]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: no window", at.Format("15:04")))
			continue
		case !near(g.measured, w.measured):
			out = append(out, fmt.Sprintf("%s: measured %.2f W, want %.2f", at.Format("15:04"), g.measured, w.measured))
		}
		for _, port := range slices.Sorted(maps.Keys(w.util)) {
			u := w.util[port]
			if !near(g.util[port], u) {
				out = append(out, fmt.Sprintf("%s: %s utilisation %.4f, want %.4f", at.Format("15:04"), port, g.util[port], u))
			}
		}
	}
	return out
}

// near reports whether a and b are equal to a part in a million.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b)) }

// TestPowerClockStepsBack: a device whose clock ran 3 h ahead and is set
// right at minute 60 (NTP's first sync) writes every window from the
// next one on as it would on time (its PSUs' measured power, its ports'
// utilisation from its byte counters' rates), and one WARN line says its
// clock stepped back; no device expires (with a 1 h device_expiry), and
// a stage restored from its changelog around the step goes on as the one
// that wrote it. Before, its windows stopped for 3 h (no tick finished,
// its counters were stale) until its time passed its latest sample from
// before the step; then the window open before the step took the ticks
// after it, and the first rate spanned 3 h of octets over a minute (a
// tick at utilisation 1).
func TestPowerClockStepsBack(t *testing.T) {
	const ticks, step = 300, 60
	want, _, _ := stepRun(t, skewRecords(t, ticks, onTime, nil), step)
	recs := skewRecords(t, ticks, func(dev string, i int) time.Duration {
		if dev == stepDevice && i < step {
			return 3 * time.Hour
		}
		return 0
	}, nil)
	got, _, warns := stepRun(t, recs, step)
	start, _ := time.Parse(time.DateOnly, expiryStart)
	if diffs := stepDiffs(got, want, start.Add(step*time.Minute+15*time.Minute)); len(diffs) > 0 {
		t.Errorf("%d windows of %s after its clock stepped back differ from on time:\n%s", len(diffs), stepDevice, strings.Join(diffs, "\n"))
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "clock stepped back") || !strings.Contains(warns[0], "device="+stepDevice) {
		t.Errorf("WARN lines %q, want one saying %s's clock stepped back", warns, stepDevice)
	}
	reg := prometheus.NewRegistry()
	run(t, newExpiryStage(t, Config{DeviceExpiry: expiryAfter}, reg), recs)
	if n := expired(t, reg, "power"); n != 0 {
		t.Errorf("%v devices expired with a device_expiry of %v, want none: each reports every minute", n, expiryAfter)
	}
	stepRestores(t, recs, []int{step - 1, step, step + 1, step + 2, step + 10, step + 180, step + 181})
}

// stepRestores checks that a power stage restored from the changelog of
// one that took recs up to each of cuts (one record a transaction) writes
// the same outputs and checkpoints as the one that goes on.
func stepRestores(t *testing.T, recs []*kgo.Record, cuts []int) {
	t.Helper()
	whole := newExpiryStage(t, Config{}, prometheus.NewRegistry())
	changelog := map[string][]byte{}
	at := map[int]map[string][]byte{}
	for i, r := range recs {
		run(t, whole, []*kgo.Record{r})
		maps.Copy(changelog, checkpoint(whole))
		at[i+1] = maps.Clone(changelog)
	}
	for _, cut := range cuts {
		a, b := newExpiryStage(t, Config{}, prometheus.NewRegistry()), newExpiryStage(t, Config{}, prometheus.NewRegistry())
		for _, r := range recs[:cut] {
			run(t, a, []*kgo.Record{r})
			checkpoint(a)
		}
		for _, k := range slices.Sorted(maps.Keys(at[cut])) {
			if err := b.Restore(0, []byte(k), at[cut][k]); err != nil {
				t.Fatal(err)
			}
		}
		oa, _ := run(t, a, recs[cut:])
		ob, _ := run(t, b, recs[cut:])
		if !slices.Equal(oa, ob) {
			t.Errorf("restored after record %d: %d outputs, %d without the restore; first difference at %d", cut, len(ob), len(oa), firstDiff(oa, ob))
		}
		if ca, cb := checkpoint(a), checkpoint(b); !maps.EqualFunc(ca, cb, bytes.Equal) {
			t.Errorf("restored after record %d: the last checkpoints differ", cut)
		}
	}
}

// TestPowerClockOutlierSample: one byte counter sample of a device, or
// one CPU temperature, stamped a year ahead (minute 30, a garbled
// timestamp) blinds the device for about a minute, not a year: its
// windows from the next one on are those of on time, and none is written
// a year ahead. A sample stamped 3 h behind, alone among samples on time,
// is no step: the device's windows are those of on time and nothing is
// logged. Before, the sample ahead stopped every window of the device
// for a year (no tick of its time finished) and left the counter stale
// as long.
func TestPowerClockOutlierSample(t *testing.T) {
	const ticks, at = 120, 30
	start, _ := time.Parse(time.DateOnly, expiryStart)
	want, _, _ := stepRun(t, skewRecords(t, ticks, onTime, nil), 0)
	for _, c := range []struct {
		name         string
		metric, keys string
		shift        time.Duration
		warns        int
	}{
		{"a year ahead", schemas.MetricInOctets, "name=Ethernet1", 365 * 24 * time.Hour, 1},
		{"3 h behind", schemas.MetricInOctets, "name=Ethernet1", -3 * time.Hour, 0},
		// A metric the estimator keeps no stamp of: its ticks wait all the same.
		{"a temperature a year ahead", "/components/component/state/temperature/instant", "name=CPU", 365 * 24 * time.Hour, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			recs := stepRecords(t, ticks, func(i int, s *schemas.Sample) {
				if i == at && s.Device == stepDevice && s.Metric == c.metric && s.Keys == c.keys {
					s.TS += int64(c.shift)
				}
			})
			got, starts, warns := stepRun(t, recs, 0)
			if diffs := stepDiffs(got, want, start.Add(45*time.Minute)); len(diffs) > 0 {
				t.Errorf("%d windows of %s after the sample differ from on time:\n%s", len(diffs), stepDevice, strings.Join(diffs, "\n"))
			}
			for _, s := range starts {
				if s >= start.Add(ticks*time.Minute).UnixNano() {
					t.Errorf("a window of %s written at %v, after the last sample's time", stepDevice, time.Unix(0, s).UTC())
				}
			}
			if len(warns) != c.warns {
				t.Errorf("WARN lines %q, want %d", warns, c.warns)
			}
		})
	}
}

// stepRecords is fleetRecords' fleet on time, with edit applied to each
// sample after its time is set.
func stepRecords(t *testing.T, ticks int, edit func(tick int, s *schemas.Sample)) []*kgo.Record {
	t.Helper()
	return fleetRecords(t, ticks, func(i int, s *schemas.Sample) bool {
		edit(i, s)
		return true
	})
}
