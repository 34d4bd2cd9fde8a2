package detect

import (
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/schemas"
)

// TestNeighborKeys: a neighbour's series name it by their keys up to its
// neighbor-address, whatever keys come before or after; other keys name
// none.
func TestNeighborKeys(t *testing.T) {
	for keys, want := range map[string]string{
		schemas.BGPInstanceKeys + ",neighbor-address=10.1.0.1":                            schemas.BGPInstanceKeys + ",neighbor-address=10.1.0.1",
		schemas.BGPInstanceKeys + ",neighbor-address=10.1.0.1,afi-safi-name=IPV4_UNICAST": schemas.BGPInstanceKeys + ",neighbor-address=10.1.0.1",
		"neighbor-address=2001:db8::1,afi-safi-name=IPV6_UNICAST":                         "neighbor-address=2001:db8::1",
		"instance-name=default,neighbor-address=192.0.2.1":                                "instance-name=default,neighbor-address=192.0.2.1",
		`name=a\,neighbor-address=x,neighbor-address=192.0.2.9,af-name=ipv4`:              `name=a\,neighbor-address=x,neighbor-address=192.0.2.9`,
		"name=Ethernet1":                  "",
		schemas.BGPInstanceKeys:           "",
		"peer-neighbor-address=192.0.2.1": "",
	} {
		if got := neighborKeys(keys); got != want {
			t.Errorf("neighborKeys(%q) = %q, want %q", keys, got, want)
		}
	}
}

// TestDetectSessionPrefixes: a BGP neighbour's prefix count, read once a
// minute (an SNMP poller's or a gNMI sample's usual cadence), drops to 0
// for the one sample its session is down, at one time on four evenings.
// The session-state says it (session_down, resolved at the next sample).
// The prefix count is tied to its neighbour's session as an interface's
// traffic is to its oper-status, so the zero is neither alerted on nor
// learned. Before the tie it fired beside every session_down, and on the
// simulator's fabric at 60 s what it learned of the resets fired a day
// later at the same minute (19 of that scenario's 23 false incidents).
// The control without the session-state series shows the drops are
// there to fire on.
func TestDetectSessionPrefixes(t *testing.T) {
	const (
		perDay = 24 * 60
		days   = 4
	)
	keys := schemas.BGPInstanceKeys + ",neighbor-address=10.1.0.1"
	reset := func(i int) bool { return i%perDay == 18*60 }
	build := func(session bool) []*kgo.Record {
		sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
		defer sb.Release()
		var recs []*kgo.Record
		for i := range days * perDay {
			ts := t0.Add(time.Duration(i) * time.Minute).UnixNano()
			prefixes, state := 400.0, "ESTABLISHED"
			if reset(i) {
				prefixes, state = 0, "IDLE"
			}
			if session {
				sb.Append(&schemas.Sample{TS: ts, Device: dev, Metric: stateevents.MetricBGPSession, Keys: keys, Kind: schemas.KindState, Str: state})
			}
			sb.Append(&schemas.Sample{TS: ts, Device: dev, Metric: schemas.MetricBGPPrefixesReceived, Keys: keys + ",afi-safi-name=IPV4_UNICAST",
				Kind: schemas.KindGauge, F64: prefixes})
			if (i+1)%60 == 0 {
				recs = append(recs, recordOf(t, sb))
			}
		}
		return recs
	}
	minute := func(det *schemas.Detection) int { return int(det.EventTime.Sub(t0) / time.Minute) }
	var got []string
	for _, det := range process(t, newTestDetect(t, Config{}), build(true)) {
		if det.Metric == schemas.MetricBGPPrefixesReceived {
			t.Errorf("with the session-state: %s %s on the prefix count at day %d %02d:%02d, want none (the session explains the drop)",
				det.State, det.Detector, minute(det)/perDay, minute(det)%perDay/60, minute(det)%60)
			continue
		}
		got = append(got, det.State+" "+det.Detector)
	}
	if want := slices.Repeat([]string{"firing session_down", "resolved session_down"}, days); !slices.Equal(got, want) {
		t.Errorf("session-state detections %v, want %v", got, want)
	}
	fired := 0
	for _, det := range process(t, newTestDetect(t, Config{}), build(false)) {
		if det.State == schemas.StateFiring && reset(minute(det)) {
			fired++
		}
	}
	if fired != days {
		t.Errorf("control without the session-state: the prefix count fired at %d of the %d resets, want every one", fired, days)
	}
}
