package detect

import (
	"bytes"
	"maps"
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

// deviceRecords encodes n ticks 10 s apart, one record per tick: the
// samples rows(i), each naming its device, their time set to tick i's.
func deviceRecords(t *testing.T, n int, rows func(i int) []schemas.Sample) []*kgo.Record {
	t.Helper()
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	var recs []*kgo.Record
	for i := range n {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		for _, s := range rows(i) {
			s.TS, s.Source = ts, schemas.SourceGNMI
			sb.Append(&s)
		}
		recs = append(recs, recordOf(t, sb))
	}
	return recs
}

// on returns s as a sample of device.
func on(device string, s schemas.Sample) schemas.Sample {
	s.Device = device
	return s
}

// Devices of the device expiry tests (series_expiry 1h: 360 ticks).
const (
	devKeep   = "keep"   // a gauge every tick: the partition's clock
	devGone   = "gone"   // counters every tick and state on change until tick 180; link_down from tick 100
	devLive   = "live"   // counters every tick throughout; state on change only, link_down from tick 50
	devStOnly = "stonly" // state only, polled every tick until tick 200; link_down on one port from tick 60
	devStLive = "stlive" // state only, polled every tick throughout
)

const (
	goneStop   = 180 // the first tick without a sample of devGone
	stOnlyStop = 200 // the first tick without a sample of devStOnly
	port2      = "name=Hu0/0/0/11"
)

// expiryDeviceRows returns the samples of tick i of the devices named.
func expiryDeviceRows(devices ...string) func(i int) []schemas.Sample {
	has := func(d string) bool { return slices.Contains(devices, d) }
	octets := func(i int) uint64 { return uint64(1<<30) + uint64(i)*10_000_000 + uint64(i%7)*100_000 }
	return func(i int) []schemas.Sample {
		var r []schemas.Sample
		if has(devKeep) {
			r = append(r, on(devKeep, schemas.Sample{Kind: schemas.KindGauge, Metric: "/system/cpu", F64: 40 + float64(i%5)}))
		}
		// An interface's counter every tick, its state leaves on change
		// (UP at 0, oper-status DOWN at down), a BGP session's state at 0.
		onChange := func(device string, down int) {
			r = append(r, on(device, counterSample(schemas.MetricInOctets, iface, octets(i))))
			switch i {
			case 0:
				r = append(r, on(device, stateSample(stateevents.MetricAdminStatus, iface, "UP")),
					on(device, stateSample(stateevents.MetricOperStatus, iface, "UP")),
					on(device, stateSample(stateevents.MetricBGPSession, bgpKeys, "ESTABLISHED")))
			case down:
				r = append(r, on(device, stateSample(stateevents.MetricOperStatus, iface, "DOWN")))
			}
		}
		if has(devGone) && i < goneStop {
			onChange(devGone, 100)
		}
		if has(devLive) {
			onChange(devLive, 50)
		}
		// Polled ifOperStatus of two ports.
		polled := func(device string, down int) {
			oper := "UP"
			if down >= 0 && i >= down {
				oper = "DOWN"
			}
			r = append(r, on(device, stateSample(stateevents.MetricOperStatus, iface, oper)),
				on(device, stateSample(stateevents.MetricOperStatus, port2, "UP")))
		}
		if has(devStOnly) && i < stOnlyStop {
			polled(devStOnly, 60)
		}
		if has(devStLive) {
			polled(devStLive, -1)
		}
		return r
	}
}

// heldOf returns the series of device held by d.
func heldOf(d *Stage, device string) []schemas.SeriesKey {
	var out []schemas.SeriesKey
	for k := range d.SeriesStates() {
		if k.Device == device {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b schemas.SeriesKey) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// checkDeviceGone runs recs through d one at a time, checkpointing after
// each into changelog, and checks that every series of device (the keys
// held after record at-1, its last sample at tick last) is dropped at the
// first sweep an hour after its last sample, with a tombstone for each in
// that checkpoint, and the ties of its interfaces with them. It returns
// the detections on device.
func checkDeviceGone(t *testing.T, d *Stage, recs []*kgo.Record, device string, last int) []*schemas.Detection {
	t.Helper()
	var keys []schemas.SeriesKey
	dropped := -1
	var dets []*schemas.Detection
	for i, r := range recs {
		for _, det := range process(t, d, []*kgo.Record{r}) {
			if det.Device == device {
				dets = append(dets, det)
			}
		}
		cp := checkpoint(d)
		held := heldOf(d, device)
		if i == last {
			keys = held
		}
		if i > last && len(held) < len(keys) && dropped < 0 {
			dropped = i
			if len(held) != 0 {
				t.Errorf("record %d: %d of %d series of %s dropped, %v still held; want all", i, len(keys)-len(held), len(keys), device, held)
			}
			for _, k := range keys {
				if v, ok := cp[string(pipeline.StateKey(nil, k))]; !ok || v != nil {
					t.Errorf("record %d: the checkpoint after the drop holds %d bytes (present %v) for %s, want a tombstone", i, len(v), ok, k)
				}
			}
		}
	}
	if len(keys) == 0 {
		t.Fatalf("no series of %s held at its last sample", device)
	}
	// Every series may go once the partition's newest sample is an hour
	// past the device's last one and at a sweep boundary (every 7.5 min).
	if earliest, latest := last+360, last+360+45; dropped <= earliest || dropped > latest {
		t.Errorf("the series of %s (%v) were dropped after record %d, want within (%d, %d]", device, keys, dropped, earliest, latest)
	}
	for k, f := range d.parts[0].ifaces {
		if k.Device == device {
			t.Errorf("interface %s of %s still tied (%d series)", k, device, f.n)
		}
	}
	checkTies(t, d.parts[0])
	return dets
}

// checkResolvedGone checks that dets, the detections of a device, are a
// link_down firing at tick fired and resolved without a reading at tick
// last + an hour, with the same fingerprint and start.
func checkResolvedGone(t *testing.T, dets []*schemas.Detection, fired, last int) {
	t.Helper()
	at := t0.Add(time.Duration(last)*10*time.Second + time.Hour)
	if len(dets) != 2 || dets[0].State != schemas.StateFiring || dets[0].Detector != "link_down" ||
		dets[1].State != schemas.StateResolved || dets[1].Detector != "link_down" ||
		dets[1].Fingerprint != dets[0].Fingerprint || !dets[1].StartsAt.Equal(dets[0].StartsAt) ||
		!dets[0].EventTime.Equal(t0.Add(time.Duration(fired)*10*time.Second)) || !dets[1].EventTime.Equal(at) ||
		dets[1].Severity != dets[0].Severity || !strings.Contains(dets[1].Annotations["description"], "the device stopped reporting") {
		for _, det := range dets {
			t.Logf("%s %s %s at %v (starts %v, %s, fingerprint %s): %s", det.State, det.Detector, det.Keys, det.EventTime,
				det.StartsAt, det.Severity, det.Fingerprint, det.Annotations["description"])
		}
		t.Errorf("want link_down firing at tick %d, then resolved at %v (its device's last sample + series_expiry) with its fingerprint, start and severity, saying the device stopped reporting", fired, at)
	}
}

// TestDetectDeviceGone: a device whose counters report every tick and
// whose state leaves are sent on change (admin-status and oper-status UP,
// a BGP session ESTABLISHED, then the oper-status DOWN: link_down fires)
// stops reporting at tick 180. Once every series of it has been silent
// for series_expiry, at the next sweep, its state series go with its
// counters (before, they stayed, and the link_down fired for ever): the
// link_down is resolved first, at the device's last sample +
// series_expiry, saying the device stopped, each series gets its
// tombstone and is counted as expired, and its interface's tie goes.
func TestDetectDeviceGone(t *testing.T) {
	recs := deviceRecords(t, 4*360, expiryDeviceRows(devKeep, devGone))
	d := newTestDetect(t, Config{SeriesExpiry: time.Hour})
	reg := prometheus.NewRegistry()
	d.metrics = pipeline.NewMetrics(reg)
	dets := checkDeviceGone(t, d, recs, devGone, goneStop-1)
	checkResolvedGone(t, dets, 100, goneStop-1)
	if got := counterValue(t, reg, "telekernel_detect_series_expired_total"); got != 4 {
		t.Errorf("telekernel_detect_series_expired_total %v, want 4 (the counter and 3 state series)", got)
	}
	if d.Series() != 1 || len(d.parts[0].ifaces) != 0 || len(d.parts[0].watched) != 0 {
		t.Errorf("%d series held, %d interfaces tied, %d devices watched; want 1 (%s's gauge), 0, 0",
			d.Series(), len(d.parts[0].ifaces), len(d.parts[0].watched), devKeep)
	}
}

// TestDetectDeviceLiveKeepsStates: a device whose counters keep reporting
// keeps its state series, sent on change and silent for 3 ×
// series_expiry, and the link_down one of them fires: silence of a state
// leaf says its state has not changed.
func TestDetectDeviceLiveKeepsStates(t *testing.T) {
	recs := deviceRecords(t, 50+3*360+100, expiryDeviceRows(devLive))
	d := newTestDetect(t, Config{SeriesExpiry: time.Hour})
	process(t, d, recs[:1])
	want := heldOf(d, devLive)
	dets := process(t, d, recs[1:])
	if got := heldOf(d, devLive); !slices.Equal(got, want) {
		t.Errorf("series held %v, want all of %v", got, want)
	}
	if got := summary(dets); !slices.Equal(got, []string{"firing link_down oper-status@50"}) {
		t.Errorf("detections %v, want the link_down firing only", got)
	}
	st := d.parts[0].series[schemas.SeriesKey{Device: devLive, Metric: stateevents.MetricOperStatus, Keys: iface}]
	if st == nil || st.se.Alert() != stateevents.RuleLinkDown || st.iface == nil {
		t.Errorf("oper-status %+v, want held, tied and firing link_down", st)
	}
}

// TestDetectStateOnlyDeviceGone: in a partition of devices polled for
// their oper-status only (no counter or gauge moves its clock), one stops
// at tick 200 with a port down (link_down from tick 60): it is gone once
// its state series have been silent for series_expiry, its link_down
// resolved first; the other, polled on, keeps its series.
func TestDetectStateOnlyDeviceGone(t *testing.T) {
	recs := deviceRecords(t, 4*360, expiryDeviceRows(devStOnly, devStLive))
	d := newTestDetect(t, Config{SeriesExpiry: time.Hour})
	dets := checkDeviceGone(t, d, recs, devStOnly, stOnlyStop-1)
	checkResolvedGone(t, dets, 60, stOnlyStop-1)
	if got := len(heldOf(d, devStLive)); got != 2 {
		t.Errorf("%d series of %s held, want 2", got, devStLive)
	}
}

// TestDetectDeviceGoneRestore: a stage restored from its changelog at
// records before, at and after the sweep that drops the two devices that
// stop (one with counters, one with state only) beside one whose counters
// report on, continues as the one that wrote it: the same detections,
// state and checkpoints; and scoring on 2 workers holding the outputs
// writes the same bytes as 1.
func TestDetectDeviceGoneRestore(t *testing.T) {
	recs := deviceRecords(t, 3*360, expiryDeviceRows(devKeep, devGone, devLive, devStOnly))
	cfg := Config{SeriesExpiry: time.Hour}
	o1, c1, s1 := runWorkers(t, cfg, 1, 1, false, recs)
	o2, c2, s2 := runWorkers(t, cfg, 2, 1, true, recs)
	if !bytes.Equal(o1, o2) || !bytes.Equal(c1, c2) || !maps.EqualFunc(s1, s2, slices.Equal) {
		t.Errorf("2 workers holding outputs differ from 1: outputs %s; changelog %s", firstDiff(o2, o1), firstDiff(c2, c1))
	}
	// The sweeps fall every 45 ticks, with a cutoff 360 ticks before:
	// 540 drops gone (its last sample at 179), 585 stonly (at 199).
	for _, cut := range []int{300, 539, 540, 541, 584, 585, 586, 600} {
		a := newTestDetect(t, cfg)
		log := map[string][]byte{}
		var da []*schemas.Detection
		for _, r := range recs[:cut] {
			da = append(da, process(t, a, []*kgo.Record{r})...)
			maps.Copy(log, checkpoint(a))
		}
		b := newTestDetect(t, cfg)
		for k, v := range log {
			if err := b.Restore(0, []byte(k), v); err != nil {
				t.Fatal(err)
			}
		}
		if b.Series() != a.Series() || b.StateBytes() != a.StateBytes() {
			t.Errorf("cut %d: restored %d series (%d B), want %d (%d B)", cut, b.Series(), b.StateBytes(), a.Series(), a.StateBytes())
		}
		after := process(t, a, recs[cut:])
		if got, want := summary(process(t, b, recs[cut:])), summary(after); !slices.Equal(got, want) {
			t.Errorf("cut %d: detections after the handoff %v, without %v", cut, got, want)
		}
		if !maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal) {
			t.Errorf("cut %d: final states differ", cut)
		}
		if !maps.EqualFunc(checkpoint(a), checkpoint(b), slices.Equal) {
			t.Errorf("cut %d: the last checkpoints differ", cut)
		}
		if cut == 300 {
			// The uninterrupted run: both devices that stop are resolved
			// and gone; live keeps its state series and its alert.
			var got []string
			for _, det := range slices.Concat(da, after) {
				if det.State == schemas.StateResolved && strings.Contains(det.Annotations["description"], "the device stopped reporting") {
					got = append(got, det.Device+" "+det.Detector)
				}
			}
			if want := []string{devGone + " link_down", devStOnly + " link_down"}; !slices.Equal(got, want) {
				t.Errorf("resolved without a reading: %v, want %v", got, want)
			}
			if n := len(heldOf(a, devGone)) + len(heldOf(a, devStOnly)); n != 0 {
				t.Errorf("%d series of the devices that stopped held, want 0", n)
			}
			if n := len(heldOf(a, devLive)); n != 4 {
				t.Errorf("%d series of %s held, want 4", n, devLive)
			}
		}
	}
}
