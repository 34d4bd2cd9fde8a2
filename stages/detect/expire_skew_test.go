package detect

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// TestDetectAheadDeviceExpiresNoLiveSeries: one device of a partition
// whose clock runs two days ahead (first seen so) is placed on the
// partition's clock, so the next sweep drops the state of no other
// device's series: they report every 10 s. Before, its samples advanced
// the partition's sweep clock and the next sweep dropped the state of the
// device on time (found in review).
func TestDetectAheadDeviceExpiresNoLiveSeries(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	var recs []*kgo.Record
	const n, skewFrom = 200, 100
	for i := range n {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		sb.Append(&schemas.Sample{TS: ts, Device: "ontime", Metric: "/system/cpu", Kind: schemas.KindGauge, F64: 40 + rng.NormFloat64(), Source: schemas.SourceSim})
		if i >= skewFrom {
			sb.Append(&schemas.Sample{TS: ts + int64(48*time.Hour), Device: "ahead", Metric: "/system/cpu", Kind: schemas.KindGauge, F64: 40 + rng.NormFloat64(), Source: schemas.SourceSim})
		}
		recs = append(recs, recordOf(t, sb))
	}
	d := newTestDetect(t, Config{}) // series_expiry: a day
	var stale []string
	for _, det := range process(t, d, recs) {
		if strings.Contains(det.Annotations["description"], "stopped") {
			stale = append(stale, det.Device+" "+det.Annotations["description"])
		}
	}
	st := d.parts[0].series[schemas.SeriesKey{Device: "ontime", Metric: "/system/cpu"}]
	if st == nil || st.points != n {
		points := uint64(0)
		if st != nil {
			points = st.points
		}
		t.Errorf("series of device ontime, which reported every 10 s: %d points held, want %d (its state was dropped by series_expiry when device ahead's clock jumped the partition's clock)", points, n)
	}
	if len(stale) > 0 {
		t.Errorf("stale resolutions on live series: %v", stale)
	}
}

// Devices of the skew tests (series_expiry 1h: 360 ticks of 10 s).
const (
	skewOnTime = "ontime" // a gauge every tick: the partition's clock
	skewBehind = "behind" // 20 years behind from its first sample
	skewAhead  = "ahead"  // on time, then two days ahead, then on time again
	skewStops  = "stops"  // on time, stops
)

// skewDevice is a device of skewRecords: it reports from tick from to
// tick to (excluded; 0: to the end) its rows (skewRows), each tick's
// time moved by shift(i).
type skewDevice struct {
	name     string
	from, to int
	shift    func(i int) time.Duration
	rows     func(dev string, i int) []schemas.Sample
}

// skewRecords encodes n ticks 10 s apart, one record per tick: the rows
// of each device that reports at the tick, at its time moved by the
// device's shift (and by a row's own TS, 0 in most rows).
func skewRecords(t *testing.T, n int, devices ...skewDevice) []*kgo.Record {
	t.Helper()
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	var recs []*kgo.Record
	for i := range n {
		for _, dv := range devices {
			if i < dv.from || dv.to != 0 && i >= dv.to {
				continue
			}
			ts := t0.Add(time.Duration(i)*10*time.Second + dv.shift(i)).UnixNano()
			for _, s := range dv.rows(dv.name, i) {
				s.TS, s.Device, s.Source = ts+s.TS, dv.name, schemas.SourceGNMI
				sb.Append(&s)
			}
		}
		recs = append(recs, recordOf(t, sb))
	}
	return recs
}

// noShift is the shift of a device on time.
func noShift(int) time.Duration { return 0 }

// skewGauge is a device's gauge only, 40 ± noise (the same for a device
// and tick however its clock is set).
func skewGauge(dev string, i int) []schemas.Sample {
	return []schemas.Sample{{Kind: schemas.KindGauge, Metric: "/system/cpu", F64: 40 + skewNoise(dev, i)}}
}

// skewRows returns a device's rows of tick i: a gauge (spike at the ticks
// listed), a byte counter of an interface and the interface's
// oper-status, sent on change: UP at tick first, DOWN from down to up
// (down 0: never).
func skewRows(first, down, up int, spikes ...int) func(dev string, i int) []schemas.Sample {
	return func(dev string, i int) []schemas.Sample {
		r := skewGauge(dev, i)
		if slices.Contains(spikes, i) {
			r[0].F64 = 400
		}
		octets := uint64(1<<30) + uint64(i)*10_000_000 + uint64(1000*(2+skewNoise(dev, -i)))
		r = append(r, counterSample(schemas.MetricInOctets, iface, octets))
		switch {
		case i == first:
			r = append(r, stateSample(stateevents.MetricOperStatus, iface, "UP"))
		case down != 0 && i == down:
			r = append(r, stateSample(stateevents.MetricOperStatus, iface, "DOWN"))
		case down != 0 && i == up:
			r = append(r, stateSample(stateevents.MetricOperStatus, iface, "UP"))
		}
		return r
	}
}

// skewNoise is a normal deviate of device dev at tick i.
func skewNoise(dev string, i int) float64 {
	h := fnv.New64a()
	h.Write([]byte(dev))
	return rand.New(rand.NewPCG(h.Sum64(), uint64(i))).NormFloat64()
}

// skewYears is how far behind device skewBehind's clock is set (an RTC
// reset).
const skewYears = 20 * 365 * 24 * time.Hour

// TestDetectBehindDeviceWarms: a device first seen 20 years behind its
// partition's clock keeps its series, and they warm: its detections (a
// gauge's spike, a link_down and its resolution) are those of the same
// device on time, 20 years earlier; nothing expires. Before, it was 20
// years silent on the partition's clock: every sweep dropped its series,
// so they started cold every 7.5 minutes, never warmed, and its link_down
// was resolved without a reading at each sweep.
func TestDetectBehindDeviceWarms(t *testing.T) {
	run := func(shift time.Duration) (dets []string, expired float64, points uint64) {
		recs := skewRecords(t, 1000,
			skewDevice{name: skewOnTime, shift: noShift, rows: skewGauge},
			skewDevice{name: skewBehind, from: 10, shift: func(int) time.Duration { return shift }, rows: skewRows(10, 800, 850, 700)})
		d := newTestDetect(t, Config{SeriesExpiry: time.Hour})
		reg := prometheus.NewRegistry()
		d.metrics = pipeline.NewMetrics(reg)
		for _, det := range process(t, d, recs) {
			if det.Device != skewBehind {
				continue
			}
			// Its own times, moved back by its shift, the description's
			// too.
			desc := rfc3339.ReplaceAllStringFunc(det.Annotations["description"], func(ts string) string {
				at, err := time.Parse(time.RFC3339Nano, ts)
				if err != nil {
					t.Fatal(err)
				}
				return at.Add(-shift).Format(time.RFC3339Nano)
			})
			dets = append(dets, fmt.Sprintf("%s %s %s %s at %v (starts %v) fingerprint %s: %s", det.State, det.Detector, det.Metric, det.Severity,
				det.EventTime.Add(-shift).Format(time.RFC3339), det.StartsAt.Add(-shift).Format(time.RFC3339), det.Fingerprint, desc))
		}
		if st := d.parts[0].series[schemas.SeriesKey{Device: skewBehind, Metric: "/system/cpu"}]; st != nil {
			points = st.points
		}
		return dets, counterValue(t, reg, "telekernel_detect_series_expired_total"), points
	}
	want, _, wantPoints := run(0)
	if len(want) < 4 {
		t.Fatalf("on time: detections %v, want the gauge's spike and the link_down, fired and resolved", want)
	}
	got, expired, points := run(-skewYears)
	if !slices.Equal(got, want) {
		t.Errorf("20 years behind, moved back:\n%s\nwant (on time):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if expired != 0 || points != wantPoints {
		t.Errorf("20 years behind: %v series expired, the gauge has %d points; want none, %d", expired, points, wantPoints)
	}
}

// rfc3339 matches a time in a description.
var rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)

// skewFleet is the partition of TestDetectSkewRestore, 1100 ticks: a
// device on time throughout; one 20 years behind from its first sample
// (tick 10), whose gauge fires on its last sample and whose link_down
// fires at 300, which stops at 600 (both resolved without a reading an
// hour later in its own time, and it is forgotten); one whose clock is
// set two days ahead from 200 to 500 and is then set right (its samples
// two days behind its series' latest count toward a step back from 500,
// and a minute of them later, at 506, its clock has stepped back: its
// series take its samples again, at offset 0); one on time that stops at
// 100.
func skewFleet(t *testing.T) []*kgo.Record {
	t.Helper()
	return skewRecords(t, 1100,
		skewDevice{name: skewOnTime, shift: noShift, rows: skewGauge},
		skewDevice{name: skewBehind, from: 10, to: 600, shift: func(int) time.Duration { return -skewYears }, rows: skewRows(10, 300, 0, 599)},
		skewDevice{name: skewAhead, shift: func(i int) time.Duration {
			if i >= 200 && i < 500 {
				return 48 * time.Hour
			}
			return 0
		}, rows: skewRows(0, 0, 0)},
		skewDevice{name: skewStops, to: 100, shift: noShift, rows: skewRows(0, 0, 0)})
}

// TestDetectSkewRestore: a stage restored from its changelog at any
// record around the offsets' changes and the sweeps of skewFleet (the
// offset records before the series', or after them, with or without the
// tombstones) continues as the one that wrote it: the same outputs and
// checkpoint after every record, the same final state, offsets and
// clock; and scoring on 2 workers holding the outputs writes the same
// bytes as 1. The offsets are in the changelog, and the clock is read back
// from the series and the offsets whichever came first.
func TestDetectSkewRestore(t *testing.T) {
	recs := skewFleet(t)
	cfg := Config{SeriesExpiry: time.Hour}
	o1, c1, s1 := runWorkers(t, cfg, 1, 1, false, recs)
	o2, c2, s2 := runWorkers(t, cfg, 2, 1, true, recs)
	if !bytes.Equal(o1, o2) || !bytes.Equal(c1, c2) || !maps.EqualFunc(s1, s2, slices.Equal) {
		t.Errorf("2 workers holding outputs differ from 1: outputs %s; changelog %s", firstDiff(o2, o1), firstDiff(c2, c1))
	}

	// The uninterrupted run: its outputs and checkpoint after each
	// record, and its changelog before each.
	step := func(d *Stage, r *kgo.Record) (string, map[string][]byte) {
		var o bytes.Buffer
		if err := d.Process(context.Background(), r, emitTo(&o)); err != nil {
			t.Fatal(err)
		}
		return o.String(), checkpoint(d)
	}
	w := newTestDetect(t, cfg)
	w.det.Now = fixedNow
	reg := prometheus.NewRegistry()
	w.metrics = pipeline.NewMetrics(reg)
	outs := make([]string, len(recs))
	ckpts := make([]map[string][]byte, len(recs))
	logs := make([]map[string][]byte, len(recs)+1)
	logs[0] = map[string][]byte{}
	offsetAt := map[string][]int{} // the records after which a device's offset record was written (or tombstoned)
	for i, r := range recs {
		outs[i], ckpts[i] = step(w, r)
		logs[i+1] = maps.Clone(logs[i])
		maps.Copy(logs[i+1], ckpts[i])
		for k := range ckpts[i] {
			if dev, ok := strings.CutPrefix(k, string(offsetKey(""))); ok {
				offsetAt[dev] = append(offsetAt[dev], i)
			}
		}
	}
	// The scenario: behind's offset set at its first sample (10) and
	// tombstoned when it is forgotten; ahead's at its jump (200), with
	// its samples behind counted at 500 and tombstoned when it has
	// stepped back (506); 2 devices and their series expired (stops,
	// behind).
	if b, a := offsetAt[skewBehind], offsetAt[skewAhead]; len(b) != 2 || b[0] != 10 || !slices.Equal(a, []int{200, 500, 506}) || len(offsetAt) != 2 {
		t.Fatalf("offset records written after records %v, want behind's at 10, tombstoned later, and ahead's at 200, 500 and 506", offsetAt)
	}
	forgotten := offsetAt[skewBehind][1]
	if off := w.parts[0].exp.devs.Offset(skewAhead); off != 0 || w.parts[0].exp.devs.Lookup(skewBehind) != nil {
		t.Fatalf("after the run: ahead at offset %d, behind known %v; want ahead back at 0, behind forgotten", off, w.parts[0].exp.devs.Lookup(skewBehind) != nil)
	}
	var stale []string
	for _, det := range process(t, newTestDetect(t, cfg), recs) {
		if det.State == schemas.StateResolved && strings.Contains(det.Annotations["description"], "stopped") {
			stale = append(stale, fmt.Sprintf("%s %s at %s", det.Device, det.Detector, det.EventTime.Format(time.RFC3339)))
		}
	}
	// behind's alerts (its gauge's, its link_down) are resolved in its
	// own time: its last sample (tick 599) + series_expiry, 20 years ago.
	at := t0.Add(599*10*time.Second + time.Hour - skewYears).Format(time.RFC3339)
	if len(stale) != 2 || !slices.Contains(stale, "behind link_down at "+at) ||
		!strings.HasPrefix(stale[1], "behind ") || !strings.HasSuffix(stale[1], " at "+at) {
		t.Errorf("resolved without a reading: %v, want behind's link_down and gauge alert at %s", stale, at)
	}

	cuts := []int{5, 10, 11, 199, 200, 201, 499, 500, 501, forgotten - 1, forgotten, forgotten + 1}
	for i := 50; i < len(recs); i += 97 {
		cuts = append(cuts, i)
	}
	cuts = append(cuts, 505, 506, 507) // ahead's step back confirmed at 506
	for _, cut := range cuts {
		for _, order := range []string{"offsets first", "offsets last"} {
			log := logs[cut]
			keys := slices.Sorted(maps.Keys(log)) // an offset's key starts with a NUL: first
			if order == "offsets last" {
				slices.Reverse(keys)
			}
			b := newTestDetect(t, cfg)
			b.det.Now = fixedNow
			for _, k := range keys {
				if log[k] == nil && order == "offsets last" {
					continue // compacted away
				}
				if err := b.Restore(0, []byte(k), log[k]); err != nil {
					t.Fatal(err)
				}
			}
			for i := cut; i < len(recs); i++ {
				o, c := step(b, recs[i])
				if o != outs[i] {
					t.Fatalf("cut %d (%s): the outputs of record %d differ:\n%s\nwant\n%s", cut, order, i, o, outs[i])
				}
				if !maps.EqualFunc(c, ckpts[i], bytes.Equal) {
					t.Fatalf("cut %d (%s): the checkpoint after record %d differs: %d records, want %d", cut, order, i, len(c), len(ckpts[i]))
				}
			}
			if !maps.EqualFunc(b.SeriesStates(), w.SeriesStates(), slices.Equal) {
				t.Errorf("cut %d (%s): final states differ", cut, order)
			}
			pw, pb := w.parts[0], b.parts[0]
			if pb.exp.clock != pw.exp.clock || !slices.Equal(pb.exp.devs.Names(), pw.exp.devs.Names()) {
				t.Errorf("cut %d (%s): clock %+v, devices %v; want %+v, %v", cut, order, pb.exp.clock, pb.exp.devs.Names(), pw.exp.clock, pw.exp.devs.Names())
			}
			for _, dev := range pw.exp.devs.Names() {
				if pb.exp.devs.Offset(dev) != pw.exp.devs.Offset(dev) {
					t.Errorf("cut %d (%s): %s at offset %d, want %d", cut, order, dev, pb.exp.devs.Offset(dev), pw.exp.devs.Offset(dev))
				}
			}
		}
	}
}

// TestDetectRestoresWithoutOffsets: a changelog written before the
// offsets (none of their records) restores, every device at offset 0, as
// that build had them; an offset record this build cannot decode is a
// one-line error naming the device; and an offset's key is one that a
// build before the offsets drops with a warning (a series key without a
// device), so it restores this build's changelog as its own.
func TestDetectRestoresWithoutOffsets(t *testing.T) {
	recs := skewFleet(t)
	cfg := Config{SeriesExpiry: time.Hour}
	a := newTestDetect(t, cfg)
	log := map[string][]byte{}
	for _, r := range recs[:300] {
		process(t, a, []*kgo.Record{r})
		maps.Copy(log, checkpoint(a))
	}
	for _, dev := range []string{skewBehind, skewAhead} {
		if log[string(offsetKey(dev))] == nil {
			t.Fatalf("no offset record of %s", dev)
		}
		delete(log, string(offsetKey(dev)))
	}
	b := newTestDetect(t, cfg)
	reg := prometheus.NewRegistry()
	b.metrics = pipeline.NewMetrics(reg)
	for k, v := range log {
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	if b.Series() != a.Series() {
		t.Fatalf("%d series restored, want %d", b.Series(), a.Series())
	}
	process(t, b, recs[300:301])
	ps := b.parts[0]
	for _, dev := range []string{skewOnTime, skewBehind, skewAhead} {
		if off := ps.exp.devs.Offset(dev); off != 0 || ps.exp.devs.Lookup(dev) == nil {
			t.Errorf("%s restored at offset %d (known %v), want 0", dev, off, ps.exp.devs.Lookup(dev) != nil)
		}
	}
	// At offset 0, ahead's restored time two days ahead is the
	// partition's clock, as the build before the offsets had it.
	if want := t0.Add(300*10*time.Second + 48*time.Hour).UnixNano(); ps.exp.clock.Newest != want {
		t.Errorf("clock at %v, want ahead's time, %v", time.Unix(0, ps.exp.clock.Newest).UTC(), time.Unix(0, want).UTC())
	}

	err := newTestDetect(t, cfg).Restore(0, offsetKey(skewAhead), []byte{1})
	if err == nil || err.Error() != "restore: clock offset of device ahead: record of 1 bytes does not decode" {
		t.Errorf("a short offset record: %v", err)
	}
	if k, err := pipeline.ParseStateKey(offsetKey(skewAhead)); err != nil || k.Device != "" || k.Keys != skewAhead {
		t.Errorf("offset key %q parses as %+v (%v), want a series key without a device", offsetKey(skewAhead), k, err)
	}
}
