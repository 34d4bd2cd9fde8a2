package detect

import (
	"maps"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
)

// TestDetectIOSXRShutBesideOpenConfigOper: an IOS-XR device streaming
// OpenConfig's oper-status (without its admin-status) beside the native
// state, shut 100..120: the native state says im-state-admin-down, which
// is the shut itself, so OpenConfig's oper-status going DOWN with it is no
// link_down (it is down on purpose, as with an admin-status series), in
// either order of the rows (OpenConfig's first, its link_down is held for
// shut_grace and ends unannounced), and after a checkpoint taken while
// shut.
func TestDetectIOSXRShutBesideOpenConfigOper(t *testing.T) {
	const ocKeys = "name=HundredGigE0/0/0/10"
	rows := func(nativeFirst bool) func(i int) []schemas.Sample {
		return func(i int) []schemas.Sample {
			xr, oc := "im-state-up", "UP"
			switch {
			case i >= 100 && i < 120:
				xr, oc = "im-state-admin-down", "DOWN"
			case i == 120:
				xr, oc = "im-state-down", "DOWN"
			}
			r := []schemas.Sample{stateSample(xrIfState, xrIfKeys, xr), stateSample(stateevents.MetricOperStatus, ocKeys, oc)}
			if !nativeFirst {
				slices.Reverse(r)
			}
			return r
		}
	}
	want := []string{"firing admin_down state@100", "resolved admin_down state@120"}
	for _, nativeFirst := range []bool{true, false} {
		for _, per := range []int{1, 60} {
			got := summary(process(t, newTestDetect(t, Config{}), sampleRecords(t, 300, per, rows(nativeFirst))))
			if !slices.Equal(got, want) {
				t.Errorf("native rows first %v, %d ticks per record: %v, want %v", nativeFirst, per, got, want)
			}
		}
		checkRestored(t, sampleRecords(t, 300, 1, rows(nativeFirst)), 110)
	}
}

// TestDetectIOSXRUnshutBesideOpenConfigOper: the same interface enabled
// again at 120 (the native state leaves im-state-admin-down for
// im-state-down) but with the link still down until 200: each
// oper-status is a link_down once enable_grace (1 minute) has passed
// after the enable, resolved when it is up.
func TestDetectIOSXRUnshutBesideOpenConfigOper(t *testing.T) {
	const ocKeys = "name=HundredGigE0/0/0/10"
	rows := func(i int) []schemas.Sample {
		xr, oc := "im-state-up", "UP"
		switch {
		case i >= 100 && i < 120:
			xr, oc = "im-state-admin-down", "DOWN"
		case i >= 120 && i < 200:
			xr, oc = "im-state-down", "DOWN"
		}
		return []schemas.Sample{stateSample(xrIfState, xrIfKeys, xr), stateSample(stateevents.MetricOperStatus, ocKeys, oc)}
	}
	want := []string{"firing admin_down state@100", "resolved admin_down state@120",
		"firing link_down state@126", "firing link_down oper-status@126",
		"resolved link_down state@200", "resolved link_down oper-status@200"}
	for _, per := range []int{1, 60} {
		got := summary(process(t, newTestDetect(t, Config{}), sampleRecords(t, 300, per, rows)))
		if !slices.Equal(got, want) {
			t.Errorf("%d ticks per record: %v, want %v", per, got, want)
		}
	}
	checkRestored(t, sampleRecords(t, 300, 1, rows), 110)
	checkRestored(t, sampleRecords(t, 300, 1, rows), 123)
}

// TestDetectIOSXRLineDownAfterUnshut: an IOS-XR interface whose
// line-state says im-state-down (not admin down) while its state says
// im-state-admin-down, 100..120: the shut, no link_down. Enabled again at
// 120 (state im-state-up) with the line protocol still down until 200:
// a link_down on line-state once enable_grace has passed, not silence.
func TestDetectIOSXRLineDownAfterUnshut(t *testing.T) {
	rows := func(i int) []schemas.Sample {
		st, line := "im-state-up", "im-state-up"
		switch {
		case i >= 100 && i < 120:
			st, line = "im-state-admin-down", "im-state-down"
		case i >= 120 && i < 200:
			line = "im-state-down"
		}
		return []schemas.Sample{stateSample(xrIfState, xrIfKeys, st), stateSample(xrLineState, xrIfKeys, line)}
	}
	want := []string{"firing admin_down state@100", "resolved admin_down state@120",
		"firing link_down line-state@126", "resolved link_down line-state@200"}
	for _, per := range []int{1, 60} {
		got := summary(process(t, newTestDetect(t, Config{}), sampleRecords(t, 300, per, rows)))
		if !slices.Equal(got, want) {
			t.Errorf("%d ticks per record: %v, want %v", per, got, want)
		}
	}
	checkRestored(t, sampleRecords(t, 300, 1, rows), 123)
}

// TestDetectCheckpointAfterExplained: the native state going
// im-state-admin-down explains the interface's OpenConfig oper-status
// (streamed on change: no row of it in that record), which moves that
// series' latest time without an event of its own; the checkpoint after
// the record carries it, so a stage restored from the changelog holds the
// state the running one does.
func TestDetectCheckpointAfterExplained(t *testing.T) {
	const ocKeys = "name=HundredGigE0/0/0/10"
	recs := sampleRecords(t, 110, 1, func(i int) []schemas.Sample {
		switch {
		case i < 100:
			return []schemas.Sample{stateSample(xrIfState, xrIfKeys, "im-state-up"), stateSample(stateevents.MetricOperStatus, ocKeys, "UP")}
		default:
			return []schemas.Sample{stateSample(xrIfState, xrIfKeys, "im-state-admin-down")}
		}
	})
	a := newTestDetect(t, Config{})
	process(t, a, recs[:100])
	changelog := checkpoint(a)
	process(t, a, recs[100:101])
	maps.Copy(changelog, checkpoint(a))
	b := newTestDetect(t, Config{})
	for k, v := range changelog {
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	if !maps.EqualFunc(a.SeriesStates(), b.SeriesStates(), slices.Equal) {
		t.Error("the state restored from the changelog differs from the running stage's")
	}
}

// TestDetectIOSXRUnshutOnChange is TestDetectIOSXRUnshutBesideOpenConfigOper
// with both state leaves sent only on change (ON_CHANGE subscriptions; a
// byte counter is the device's clock). The native state leaving
// im-state-admin-down at 120 enables the interface for OpenConfig's
// oper-status too (enabledAt): both link_downs fire, and a stage restored
// from a checkpoint taken during the enable grace gives the same
// detections. Before, only a shut put the sibling oper-status series on
// the watch: the running stage never fired OpenConfig's link_down, and a
// restored one (which watches every series that is due) did.
func TestDetectIOSXRUnshutOnChange(t *testing.T) {
	const ocKeys = "name=HundredGigE0/0/0/10"
	rows := func(i int) []stateRow {
		switch i {
		case 0:
			return []stateRow{{xrIfState, xrIfKeys, "im-state-up"}, {stateevents.MetricOperStatus, ocKeys, "UP"}}
		case 100:
			return []stateRow{{xrIfState, xrIfKeys, "im-state-admin-down"}, {stateevents.MetricOperStatus, ocKeys, "DOWN"}}
		case 120:
			return []stateRow{{xrIfState, xrIfKeys, "im-state-down"}} // enabled, the link still down
		case 200:
			return []stateRow{{xrIfState, xrIfKeys, "im-state-up"}, {stateevents.MetricOperStatus, ocKeys, "UP"}}
		}
		return nil
	}
	recs := nativeRecords(t, 300, 1, rows)
	whole := summary(process(t, newTestDetect(t, Config{}), recs))
	for _, want := range []string{"firing link_down oper-status@126", "firing link_down state@126"} {
		if !slices.Contains(whole, want) {
			t.Errorf("detections %v: want %q", whole, want)
		}
	}
	a := newTestDetect(t, Config{})
	changelog := map[string][]byte{}
	for _, r := range recs[:123] {
		process(t, a, []*kgo.Record{r})
		maps.Copy(changelog, checkpoint(a))
	}
	b := newTestDetect(t, Config{})
	for k, v := range changelog {
		if err := b.Restore(0, []byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	da, db := summary(process(t, a, recs[123:])), summary(process(t, b, recs[123:]))
	if !slices.Equal(da, db) {
		t.Errorf("restored at 123: %v; uninterrupted: %v", db, da)
	}
}
