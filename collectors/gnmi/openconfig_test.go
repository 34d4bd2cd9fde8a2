package gnmi

import (
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestClassifyVocabulary checks that the collector fixes the kind of every
// fixed leaf of the metric vocabulary (and the ieeefloat32 ones as such),
// and classifies the others as before: counters by convention, the rest by
// their first value.
func TestClassifyVocabulary(t *testing.T) {
	fixed := 0
	for _, m := range schemas.Metrics() {
		li := classify(m.Name)
		switch {
		case m.Origin == schemas.OriginSNMP || m.Origin == schemas.OriginDerived:
			continue
		case m.Fixed:
			fixed++
			if li.kind != m.Kind || li.float32 != m.Float32 {
				t.Errorf("%s: classified %+v, want kind %v float32 %v", m.Name, li, m.Kind, m.Float32)
			}
		case li.kind != 0:
			t.Errorf("%s: not fixed, but classified as %v", m.Name, li.kind)
		}
	}
	if fixed != 50 {
		t.Errorf("%d fixed leaves, want the 50 the collector fixes", fixed)
	}
	f := func(metric string, want schemas.Kind) {
		t.Helper()
		if got := classify(metric).kind; got != want {
			t.Errorf("classify(%q) = %v, want %v", metric, got, want)
		}
	}
	f("/interfaces/interface/state/counters/in-unknown", schemas.KindCounter)
	f("/qos/queues/queue/state/dropped-packets", schemas.KindCounter)
	f("/components/component/state/description", 0)
	f(schemas.MetricPSUInPower, 0) // derived by the collector itself (derivePSU)
}

// TestClassifyIOSXRCounters checks IOS-XR's native interface statistics
// (Cisco-IOS-XR-infra-statsd-oper's generic-counters and
// interfaces-mib-counters, Cisco-IOS-XR-pfi-im-cmd-oper's
// full-interface-stats): their cumulative leaves are counters whatever
// their names (bytes-received, packets-sent, resets), with or without the
// origin in front; the times and flags beside them are not.
func TestClassifyIOSXRCounters(t *testing.T) {
	const gc = "/infra-statistics/interfaces/interface/latest/generic-counters/"
	for _, c := range []struct {
		metric string
		want   schemas.Kind
	}{
		{gc + "bytes-received", schemas.KindCounter},
		{gc + "packets-sent", schemas.KindCounter},
		{gc + "multicast-packets-received", schemas.KindCounter},
		{gc + "input-overruns", schemas.KindCounter},
		{gc + "resets", schemas.KindCounter},
		{gc + "crc-errors", schemas.KindCounter},
		{"Cisco-IOS-XR-infra-statsd-oper:" + gc + "bytes-sent", schemas.KindCounter},
		{"/infra-statistics/interfaces/interface/total/interfaces-mib-counters/bytes-received", schemas.KindCounter},
		{"/interfaces/interface-xr/interface/interface-statistics/full-interface-stats/packets-received", schemas.KindCounter},
		{gc + "seconds-since-packet-received", 0},
		{gc + "seconds-since-last-clear-counters", 0},
		{gc + "last-data-time", 0},
		{gc + "last-discontinuity-time", 0},
		{gc + "availability-flag", 0},
		{"/infra-statistics/interfaces/interface/latest/data-rate/input-data-rate", 0},
	} {
		if got := classify(c.metric).kind; got != c.want {
			t.Errorf("classify(%q) = %v, want %v", c.metric, got, c.want)
		}
	}
}

// TestLastClearIsNoCounter: OpenConfig's counters containers hold
// last-clear (oc-types:timeticks64, the time in ns since the epoch the
// counters were last cleared), a timestamp, not a count: as a counter its
// rate is 0 until a clear, then ~1e9/s for every second since the previous
// one. Like the vendor containers' "last-" leaves it is no counter, while
// the counters beside it still are; decoded, it takes its kind from its
// value (a gauge).
func TestLastClearIsNoCounter(t *testing.T) {
	for _, c := range []struct {
		path string
		want schemas.Kind
	}{
		{"/interfaces/interface[name=Ethernet1]/state/counters/last-clear", 0},
		{"/interfaces/interface[name=Ethernet1]/subinterfaces/subinterface[index=0]/state/counters/last-clear", 0},
		{"/interfaces/interface[name=Ethernet1]/state/counters/in-unknown-protos", schemas.KindCounter},
		{"/interfaces/interface[name=Ethernet1]/subinterfaces/subinterface[index=0]/state/counters/in-pkts", schemas.KindCounter},
	} {
		if _, _, kind, err := Series(c.path); err != nil || kind != c.want {
			t.Errorf("Series(%q): kind %v (err %v), want %v", c.path, kind, err, c.want)
		}
	}
	const cleared = uint64(1_789_990_000_000_000_000)
	out, _ := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "/interfaces/interface[name=Ethernet1]/state", upd(t, "counters/last-clear", u64v(cleared))))
	if len(out) != 1 || out[0].Kind != schemas.KindGauge || out[0].F64 != float64(cleared) {
		t.Fatalf("decoded last-clear: %+v, want one gauge of %d", out, cleared)
	}
}
