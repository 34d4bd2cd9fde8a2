package detect

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
)

// shutRows returns sampleRecords' rows of an interface with a traffic
// counter, an oper-status and (with admin) an admin-status, each a
// function of the tick giving the value and its offset in the tick.
func shutRows(oper func(i int) (string, time.Duration), admin func(i int) (string, time.Duration)) func(i int) []schemas.Sample {
	octets := byteCounts(300, func(int) bool { return false })
	return func(i int) []schemas.Sample {
		rows := []schemas.Sample{counterSample(schemas.MetricInOctets, iface, octets[i])}
		v, at := oper(i)
		s := stateSample(stateevents.MetricOperStatus, iface, v)
		s.TS = int64(at)
		rows = append(rows, s)
		if admin != nil {
			v, at := admin(i)
			s := stateSample(stateevents.MetricAdminStatus, iface, v)
			s.TS = int64(at)
			rows = append(rows, s)
		}
		return rows
	}
}

// TestDetectShutOperFirst: an interface shut at tick 100 whose
// oper-status DOWN reaches the stage a second before its admin-status
// DOWN (separate updates, the oper-status first) is one admin_down, no
// link_down: the link_down is held for shut_grace (5 s) and the shut ends
// it unannounced. Enabled again at 120 (admin-status first, the link up
// two seconds later): resolved. However many ticks a record holds.
func TestDetectShutOperFirst(t *testing.T) {
	oper := func(i int) (string, time.Duration) {
		switch {
		case i >= 100 && i < 120:
			return "DOWN", 0
		case i == 120:
			return "UP", 2 * time.Second
		}
		return "UP", 0
	}
	admin := func(i int) (string, time.Duration) {
		if i >= 100 && i < 120 {
			return "DOWN", time.Second
		}
		return "UP", 0
	}
	want := []string{"firing admin_down admin-status@100", "resolved admin_down admin-status@120"}
	for _, per := range []int{1, 60} {
		d := newTestDetect(t, Config{})
		got := summary(process(t, d, sampleRecords(t, 200, per, shutRows(oper, admin))))
		if !slices.Equal(got, want) {
			t.Errorf("%d ticks per record: %v, want %v", per, got, want)
		}
		if held, shuts := testutil.ToFloat64(d.held), testutil.ToFloat64(d.shuts); held != 1 || shuts != 1 {
			t.Errorf("%d ticks per record: telekernel_detect_link_down_holds_total held %v, shut %v; want 1 and 1", per, held, shuts)
		}
	}
	// A held link_down is in the checkpoint: one taken while it is held
	// continues the same. The admin-status comes two ticks late, so the
	// first tick after the change (past the grace) announces the link_down
	// (an admin-status DOWN at that tick's time would still end it: a
	// tick's state rows go before its counters).
	shut := func(i int) (string, time.Duration) {
		if i >= 100 && i < 120 {
			return "DOWN", 0
		}
		return "UP", 0
	}
	adminLate := func(i int) (string, time.Duration) { // two ticks late: past the grace
		if i >= 102 && i < 120 {
			return "DOWN", 0
		}
		return "UP", 0
	}
	recs := sampleRecords(t, 200, 1, shutRows(shut, adminLate))
	got := summary(checkRestored(t, recs, 101))
	want = []string{"firing link_down oper-status@100", "resolved link_down oper-status@102", "firing admin_down admin-status@102", "resolved admin_down admin-status@120"}
	if !slices.Equal(got, want) {
		t.Errorf("admin-status two ticks late, restored while held: %v, want %v", got, want)
	}
}

// TestDetectLinkDownHeld: a link that fails with its admin-status UP is a
// link_down with the oper-status sample's time, announced on the device's
// first sample at least shut_grace later (the next tick), not in the
// record of the change; one that fails and comes back within the grace
// is a link_down and its resolution all the same; without an
// admin-status series the link_down is announced at once.
func TestDetectLinkDownHeld(t *testing.T) {
	down := func(from, to int) func(i int) (string, time.Duration) {
		return func(i int) (string, time.Duration) {
			if i >= from && i < to {
				return "LOWER_LAYER_DOWN", 0
			}
			return "UP", 0
		}
	}
	up := func(int) (string, time.Duration) { return "UP", 0 }

	recs := sampleRecords(t, 200, 1, shutRows(down(100, 110), up))
	d := newTestDetect(t, Config{})
	if got := summary(process(t, d, recs[:101])); len(got) != 0 {
		t.Errorf("in the record of the change: %v, want nothing yet", got)
	}
	dets := process(t, d, recs[101:102])
	if got, want := summary(dets), []string{"firing link_down oper-status@100"}; !slices.Equal(got, want) {
		t.Fatalf("on the next tick: %v, want %v", got, want)
	}
	if at := t0.Add(100 * 10 * time.Second); !dets[0].EventTime.Equal(at) || !dets[0].StartsAt.Equal(at) {
		t.Errorf("event time %v, starts at %v; want the oper-status sample's, %v", dets[0].EventTime, dets[0].StartsAt, at)
	}
	if got, want := summary(process(t, d, recs[102:])), []string{"resolved link_down oper-status@110"}; !slices.Equal(got, want) {
		t.Errorf("after: %v, want %v", got, want)
	}
	if held, shuts := testutil.ToFloat64(d.held), testutil.ToFloat64(d.shuts); held != 1 || shuts != 0 {
		t.Errorf("telekernel_detect_link_down_holds_total held %v, shut %v; want 1 and 0", held, shuts)
	}

	// Down at 100 and back a second later, within the grace.
	recs = sampleRecords(t, 200, 60, func(i int) []schemas.Sample {
		rows := shutRows(up, up)(i)
		if i == 100 {
			down, back := stateSample(stateevents.MetricOperStatus, iface, "DOWN"), stateSample(stateevents.MetricOperStatus, iface, "UP")
			back.TS = int64(time.Second)
			rows = append(rows, down, back)
		}
		return rows
	})
	want := []string{"firing link_down oper-status@100", "resolved link_down oper-status@100"}
	if got := summary(process(t, newTestDetect(t, Config{}), recs)); !slices.Equal(got, want) {
		t.Errorf("back within the grace: %v, want %v", got, want)
	}

	recs = sampleRecords(t, 200, 1, shutRows(down(100, 110), nil))
	if got, want := summary(process(t, newTestDetect(t, Config{}), recs[:101])), []string{"firing link_down oper-status@100"}; !slices.Equal(got, want) {
		t.Errorf("without an admin-status series, in the record of the change: %v, want %v", got, want)
	}
}

// TestDetectLinkDownHeldOnChange: a device that sends only on-change
// state (no counters) announces a held link_down on its next state
// sample at least shut_grace later, of any series: its BGP session
// going down 10 s after the link, or the collector losing the device
// (its target state DOWN).
func TestDetectLinkDownHeldOnChange(t *testing.T) {
	for _, c := range []struct {
		next schemas.Sample
		want string
	}{
		{stateSample(stateevents.MetricBGPSession, bgpKeys, "IDLE"), "firing session_down session-state@51"},
		{stateSample(schemas.MetricTargetState, "", schemas.TargetDown), "firing target_down state@51"},
	} {
		recs := sampleRecords(t, 60, 1, func(i int) []schemas.Sample {
			switch i {
			case 0:
				return []schemas.Sample{stateSample(stateevents.MetricAdminStatus, iface, "UP"), stateSample(stateevents.MetricOperStatus, iface, "UP"),
					stateSample(stateevents.MetricBGPSession, bgpKeys, "ESTABLISHED"), stateSample(schemas.MetricTargetState, "", schemas.TargetUp)}
			case 50:
				return []schemas.Sample{stateSample(stateevents.MetricOperStatus, iface, "DOWN")}
			case 51:
				return []schemas.Sample{c.next}
			}
			return nil
		})
		d := newTestDetect(t, Config{})
		if got := summary(process(t, d, recs[:51])); len(got) != 0 {
			t.Errorf("before the next sample: %v, want nothing yet", got)
		}
		want := []string{c.want, "firing link_down oper-status@50"}
		if got := summary(process(t, d, recs[51:])); !slices.Equal(got, want) {
			t.Errorf("on the next state sample (%s): %v, want %v", c.next.Metric, got, want)
		}
	}
}
