//lint:file-ignore SA1019 these tests cover the deprecated fields older targets still send

package gnmi

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

func mustPath(t testing.TB, s string) *pb.Path {
	t.Helper()
	p, err := ParsePath(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMetricMapping(t *testing.T) {
	f := func(prefix, path, wantMetric, wantKeys string) {
		t.Helper()
		var pp *pb.Path
		if prefix != "" {
			pp = mustPath(t, prefix)
		}
		m, k, err := Metric(pp, mustPath(t, path))
		if err != nil {
			t.Fatalf("%s + %s: %v", prefix, path, err)
		}
		if m != wantMetric || k != wantKeys {
			t.Fatalf("%s + %s: got (%q, %q), want (%q, %q)", prefix, path, m, k, wantMetric, wantKeys)
		}
	}
	f("", "/interfaces/interface[name=Ethernet1]/state/counters/in-octets", schemas.MetricInOctets, "name=Ethernet1")
	f("/interfaces/interface[name=Ethernet1]/state", "counters/in-octets", schemas.MetricInOctets, "name=Ethernet1")
	f("openconfig:/interfaces", "interface[name=Ethernet1]/state/oper-status", schemas.MetricOperStatus, "name=Ethernet1")
	f("", "/openconfig-interfaces:interfaces/interface[name=Ethernet1]/state/oper-status", schemas.MetricOperStatus, "name=Ethernet1")
	f("", "/components/component[name=Ethernet1]/transceiver/physical-channels/channel[index=2]/state/input-power/instant",
		schemas.MetricLaneInputPower, "name=Ethernet1,index=2")
	f("", "/components/component[name=PSU1]/power-supply/state/input-current", schemas.MetricPSUInCurrent, "name=PSU1")
	f("", "/components/component[name=CPU0]/cpu/utilization/state/instant", schemas.MetricCPUUtilization, "name=CPU0")
	f("", "/system/memory/state/used", schemas.MetricMemoryUsed, "")
	// Several keys in one element: sorted by name. A key name used twice is
	// qualified by its element.
	f("", "/network-instances/network-instance[name=default]/protocols/protocol[name=BGP][identifier=BGP]/state/enabled",
		"/network-instances/network-instance/protocols/protocol/state/enabled", "name=default,identifier=BGP,protocol.name=BGP")
	// Escapes in key values.
	f("", `/interfaces/interface[name=a,b=c\]d]/state/oper-status`, schemas.MetricOperStatus, `name=a\,b\=c]d`)
	// A non-OpenConfig origin stays in front.
	f("", "eos_native:/Kernel/proc/stat", "eos_native:/Kernel/proc/stat", "")
	// The deprecated string elements.
	m, k, err := Metric(nil, &pb.Path{Element: []string{"interfaces", "interface[name=Ethernet2]", "state", "counters", "out-octets"}})
	if err != nil || m != schemas.MetricOutOctets || k != "name=Ethernet2" {
		t.Fatalf("element form: %q %q %v", m, k, err)
	}
	if _, _, err := Metric(nil, &pb.Path{}); err == nil {
		t.Fatal("an empty path should be an error")
	}
}

func TestParseFormatPath(t *testing.T) {
	for _, s := range []string{"/interfaces/interface[name=Ethernet1]/state", "openconfig:/components", "/", `/a/b[k=x\/y]/c`} {
		p, err := ParsePath(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := FormatPath(p); got != s {
			t.Fatalf("round trip of %q gave %q", s, got)
		}
	}
	if _, err := ParsePath("/a/b[k]/c"); err == nil {
		t.Fatal("want an error for a key without value")
	}
}

// TestSeries: a leaf's string path gives the metric, keys and kind the
// collector gives the leaf (a path without a value: the kind by name, 0
// where the value's type decides).
func TestSeries(t *testing.T) {
	for _, c := range []struct {
		path, metric, keys string
		kind               schemas.Kind
	}{
		{"/interfaces/interface[name=Ethernet1]/state/counters/in-octets", schemas.MetricInOctets, "name=Ethernet1", schemas.KindCounter},
		{"/openconfig-interfaces:interfaces/interface[name=Ethernet1]/state/oper-status", schemas.MetricOperStatus, "name=Ethernet1", schemas.KindState},
		{"openconfig:/interfaces/interface[name=et-0/0/1]/state/admin-status", schemas.MetricAdminStatus, "name=et-0/0/1", schemas.KindState},
		{"/network-instances/network-instance[name=default]/protocols/protocol[identifier=BGP][name=BGP]/bgp/neighbors/neighbor[neighbor-address=10.0.0.1]/state/session-state",
			schemas.MetricBGPSessionState, schemas.BGPInstanceKeys + ",neighbor-address=10.0.0.1", schemas.KindState},
		{"/system/cpus/cpu[index=0]/state/total/instant", "/system/cpus/cpu/state/total/instant", "index=0", schemas.KindGauge},
		{"/qos/interfaces/interface[interface-id=Ethernet1]/state/queue-depth", "/qos/interfaces/interface/state/queue-depth", "interface-id=Ethernet1", 0},
		{"/a/b/rx-errors", "/a/b/rx-errors", "", schemas.KindCounter},
	} {
		m, k, kind, err := Series(c.path)
		if err != nil || m != c.metric || k != c.keys || kind != c.kind {
			t.Errorf("Series(%q) = %q %q %v %v, want %q %q %v", c.path, m, k, kind, err, c.metric, c.keys, c.kind)
		}
	}
	for _, bad := range []string{"/a/b[k]/c", "/"} {
		if _, _, _, err := Series(bad); err == nil {
			t.Errorf("Series(%q): no error", bad)
		}
	}
}

func TestNormalizeTimestamp(t *testing.T) {
	const ns = int64(1_790_000_000_123_000_000)
	for _, c := range []struct{ in, want int64 }{
		{ns, ns}, {ns / 1e3, ns}, {ns / 1e6, ns}, {ns / 1e9, ns / 1e9 * 1e9}, {0, 0},
		// Seconds, milliseconds and microseconds past year 2262 do not
		// wrap around into a valid time.
		{10_000_000_001, math.MaxInt64}, {99_999_999_999_999, math.MaxInt64}, {99_999_999_999_999_999, math.MaxInt64},
		{9_223_372_036, 9_223_372_036_000_000_000},
	} {
		if got := NormalizeTimestamp(c.in); got != c.want {
			t.Errorf("NormalizeTimestamp(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

// newDecoder returns NewDecoder(b, cfg), failing tb on an error.
func newDecoder(tb testing.TB, b *publish.Batch, cfg DecoderConfig) *Decoder {
	tb.Helper()
	d, err := NewDecoder(b, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// decodeAll decodes the responses and returns the samples.
func decodeAll(t *testing.T, cfg DecoderConfig, rs ...*pb.SubscribeResponse) ([]schemas.Sample, *Decoder) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := publish.NewBatch(mem, "dev1", schemas.SourceGNMI)
	defer b.Release()
	d := newDecoder(t, b, cfg)
	for _, r := range rs {
		if _, err := d.DecodeResponse(r, 42); err != nil {
			t.Fatal(err)
		}
	}
	rec := b.NewRecord()
	if rec == nil { // no sample
		return nil, d
	}
	defer rec.Release()
	out, err := schemas.Samples(rec)
	if err != nil {
		t.Fatal(err)
	}
	return out, d
}

func notif(t testing.TB, ts int64, prefix string, updates ...*pb.Update) *pb.SubscribeResponse {
	n := &pb.Notification{Timestamp: ts, Update: updates}
	if prefix != "" {
		n.Prefix = mustPath(t, prefix)
	}
	return &pb.SubscribeResponse{Response: &pb.SubscribeResponse_Update{Update: n}}
}

func upd(t testing.TB, path string, v *pb.TypedValue) *pb.Update {
	return &pb.Update{Path: mustPath(t, path), Val: v}
}

func u64v(v uint64) *pb.TypedValue { return &pb.TypedValue{Value: &pb.TypedValue_UintVal{UintVal: v}} }
func strv(v string) *pb.TypedValue {
	return &pb.TypedValue{Value: &pb.TypedValue_StringVal{StringVal: v}}
}
func jsonv(v string) *pb.TypedValue {
	return &pb.TypedValue{Value: &pb.TypedValue_JsonIetfVal{JsonIetfVal: []byte(v)}}
}
func f32bytes(f float32) []byte {
	return binary.BigEndian.AppendUint32(nil, math.Float32bits(f))
}

const ts1 = int64(1_790_000_000_000_000_000)

func TestDecodeProtoTypedValues(t *testing.T) {
	big := uint64(1<<62 + 12345) // beyond float64's exact integers
	r := notif(t, ts1, "/interfaces/interface[name=Ethernet1]/state",
		upd(t, "counters/in-octets", u64v(big)),
		upd(t, "counters/in-errors", &pb.TypedValue{Value: &pb.TypedValue_IntVal{IntVal: 7}}),
		upd(t, "oper-status", strv("UP")),
		upd(t, "counters/out-octets", strv("not a number")), // dropped: bad value
	)
	comp := notif(t, ts1, "/components",
		upd(t, "component[name=CPU]/state/temperature/instant", &pb.TypedValue{Value: &pb.TypedValue_DecimalVal{DecimalVal: &pb.Decimal64{Digits: 4530, Precision: 1}}}),
		upd(t, "component[name=Fan1]/fan/state/speed", u64v(5200)),
		upd(t, "component[name=PSU1]/power-supply/state/output-power", &pb.TypedValue{Value: &pb.TypedValue_BytesVal{BytesVal: f32bytes(312.5)}}),
		upd(t, "component[name=PSU1]/power-supply/state/input-voltage", &pb.TypedValue{Value: &pb.TypedValue_BytesVal{BytesVal: f32bytes(230.1)}}),
		upd(t, "component[name=PSU1]/power-supply/state/input-current", &pb.TypedValue{Value: &pb.TypedValue_BytesVal{BytesVal: f32bytes(1.5)}}),
		upd(t, "component[name=Ethernet1]/transceiver/state/input-power/instant", &pb.TypedValue{Value: &pb.TypedValue_DoubleVal{DoubleVal: -3.25}}),
		upd(t, "component[name=Ethernet1]/transceiver/state/laser-bias-current/instant", &pb.TypedValue{Value: &pb.TypedValue_FloatVal{FloatVal: 6.5}}),
		upd(t, "component[name=Ethernet1]/state/description", &pb.TypedValue{Value: &pb.TypedValue_AnyVal{}}), // unsupported
		upd(t, "component[name=Linecard1]/state/type", strv("openconfig-platform-types:LINECARD")),
	)
	out, d := decodeAll(t, DecoderConfig{}, r, comp)
	want := []schemas.Sample{
		{Metric: schemas.MetricInOctets, Keys: "name=Ethernet1", Kind: schemas.KindCounter, U64: big},
		{Metric: schemas.MetricInErrors, Keys: "name=Ethernet1", Kind: schemas.KindCounter, U64: 7},
		{Metric: schemas.MetricOperStatus, Keys: "name=Ethernet1", Kind: schemas.KindState, Str: "UP"},
		{Metric: schemas.MetricTemperature, Keys: "name=CPU", Kind: schemas.KindGauge, F64: 453},
		{Metric: schemas.MetricFanSpeed, Keys: "name=Fan1", Kind: schemas.KindGauge, F64: 5200},
		{Metric: schemas.MetricPSUOutPower, Keys: "name=PSU1", Kind: schemas.KindGauge, F64: 312.5},
		{Metric: schemas.MetricPSUInVoltage, Keys: "name=PSU1", Kind: schemas.KindGauge, F64: 230.1},
		{Metric: schemas.MetricPSUInCurrent, Keys: "name=PSU1", Kind: schemas.KindGauge, F64: 1.5},
		{Metric: schemas.MetricOpticInputPower, Keys: "name=Ethernet1", Kind: schemas.KindGauge, F64: -3.25},
		{Metric: schemas.MetricOpticLaserBias, Keys: "name=Ethernet1", Kind: schemas.KindGauge, F64: 6.5},
		{Metric: "/components/component/state/type", Keys: "name=Linecard1", Kind: schemas.KindState, Str: "LINECARD"},
		{Metric: schemas.MetricPSUInPower, Keys: "name=PSU1", Kind: schemas.KindGauge, F64: 345.15},
	}
	checkSamples(t, out, want)
	st := d.Stats()
	if st.DroppedFor(DropBadValue) != 1 || st.DroppedFor(DropUnsupported) != 1 || st.Updates != 13 {
		t.Fatalf("stats: %+v", st)
	}
}

func checkSamples(t *testing.T, got, want []schemas.Sample) {
	t.Helper()
	if len(got) != len(want) {
		for _, s := range got {
			t.Logf("got %s %s %v %d %v %q", s.Metric, s.Keys, s.Kind, s.U64, s.F64, s.Str)
		}
		t.Fatalf("got %d samples, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Device != "dev1" || g.Source != schemas.SourceGNMI || g.TS != ts1 {
			t.Fatalf("sample %d: device/source/ts %q %q %d", i, g.Device, g.Source, g.TS)
		}
		if g.Metric != w.Metric || g.Keys != w.Keys || g.Kind != w.Kind || g.U64 != w.U64 || g.F64 != w.F64 || g.Str != w.Str {
			t.Fatalf("sample %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestDecodeJSONIETF(t *testing.T) {
	big := "18446744073709551615" // max uint64: float64 would round it
	psu := base64.StdEncoding.EncodeToString(f32bytes(312.5))
	r := notif(t, ts1, "/interfaces/interface[name=Ethernet1]",
		upd(t, "state/counters/in-octets", jsonv(`"`+big+`"`)),
		upd(t, "state/counters/in-errors", jsonv(`12`)),
		upd(t, "state/oper-status", jsonv(`"DOWN"`)),
		upd(t, "state/counters", jsonv(`{"openconfig-interfaces:out-octets":"9007199254740993","out-unicast-pkts":"5"}`)),
	)
	comp := notif(t, ts1, "",
		upd(t, "/components/component[name=CPU]/state/temperature/instant", jsonv(`"45.3"`)),
		upd(t, "/components/component[name=PSU1]/power-supply/state/output-power", jsonv(`"`+psu+`"`)),
		upd(t, "/components/component[name=Ethernet1]/transceiver/state/input-power/instant", jsonv(`"-3.25"`)),
		// A list as JSON: the entries' top-level scalars are their keys.
		upd(t, "/components", jsonv(`{"component":[{"name":"Fan1","fan":{"state":{"speed":5200}}},{"name":"Fan2","fan":{"state":{"speed":5300}}}]}`)),
		upd(t, "/components/component[name=CPU]/state/temperature/alarm-status", jsonv(`false`)),
		upd(t, "/components/component[name=CPU]/state/temperature/instant", jsonv(`{`)), // malformed
	)
	out, d := decodeAll(t, DecoderConfig{}, r, comp)
	want := []schemas.Sample{
		{Metric: schemas.MetricInOctets, Keys: "name=Ethernet1", Kind: schemas.KindCounter, U64: math.MaxUint64},
		{Metric: schemas.MetricInErrors, Keys: "name=Ethernet1", Kind: schemas.KindCounter, U64: 12},
		{Metric: schemas.MetricOperStatus, Keys: "name=Ethernet1", Kind: schemas.KindState, Str: "DOWN"},
		{Metric: schemas.MetricOutOctets, Keys: "name=Ethernet1", Kind: schemas.KindCounter, U64: 9007199254740993},
		{Metric: schemas.MetricOutUnicastPkts, Keys: "name=Ethernet1", Kind: schemas.KindCounter, U64: 5},
		{Metric: schemas.MetricTemperature, Keys: "name=CPU", Kind: schemas.KindGauge, F64: 45.3},
		{Metric: schemas.MetricPSUOutPower, Keys: "name=PSU1", Kind: schemas.KindGauge, F64: 312.5},
		{Metric: schemas.MetricOpticInputPower, Keys: "name=Ethernet1", Kind: schemas.KindGauge, F64: -3.25},
		{Metric: schemas.MetricFanSpeed, Keys: "name=Fan1", Kind: schemas.KindGauge, F64: 5200},
		{Metric: schemas.MetricFanSpeed, Keys: "name=Fan2", Kind: schemas.KindGauge, F64: 5300},
		{Metric: "/components/component/state/temperature/alarm-status", Keys: "name=CPU", Kind: schemas.KindState, Str: "false"},
	}
	checkSamples(t, out, want)
	if st := d.Stats(); st.DroppedFor(DropBadValue) != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestDedupAndDeletes(t *testing.T) {
	mk := func(ts int64, v uint64) *pb.SubscribeResponse {
		return notif(t, ts, "/interfaces/interface[name=Ethernet1]/state", upd(t, "counters/in-octets", u64v(v)))
	}
	del := &pb.SubscribeResponse{Response: &pb.SubscribeResponse_Update{Update: &pb.Notification{
		Timestamp: ts1 + 3, Delete: []*pb.Path{mustPath(t, "/interfaces/interface[name=Ethernet1]")}}}}
	sync := &pb.SubscribeResponse{Response: &pb.SubscribeResponse_SyncResponse{SyncResponse: true}}
	// ts1 twice (a resent snapshot), an older one (a last-change stamp),
	// a newer one; then a delete, after which an older stamp is new again.
	out, d := decodeAll(t, DecoderConfig{}, mk(ts1, 1), sync, mk(ts1, 1), mk(ts1-5, 1), mk(ts1+1, 2), del, mk(ts1, 3))
	if len(out) != 3 || out[0].U64 != 1 || out[1].U64 != 2 || out[2].U64 != 3 {
		t.Fatalf("got %+v", out)
	}
	st := d.Stats()
	if st.DroppedFor(DropDuplicate) != 2 || st.Deletes != 1 || st.Syncs != 1 {
		t.Fatalf("stats %+v", st)
	}
	out, _ = decodeAll(t, DecoderConfig{Dedup: new(false)}, mk(ts1, 1), mk(ts1, 1))
	if len(out) != 2 {
		t.Fatalf("without dedup: %d samples", len(out))
	}
	// Receive-time stamping, milliseconds from the device.
	out, _ = decodeAll(t, DecoderConfig{Timestamp: TimestampReceive}, mk(ts1, 1))
	if out[0].TS != 42 {
		t.Fatalf("receive time: %d", out[0].TS)
	}
	out, _ = decodeAll(t, DecoderConfig{}, mk(ts1/1e6, 1))
	if out[0].TS != ts1 {
		t.Fatalf("ms timestamp: %d", out[0].TS)
	}
}

func TestDecodeErrors(t *testing.T) {
	b := publish.NewBatch(memory.NewGoAllocator(), "dev1", schemas.SourceGNMI)
	defer b.Release()
	d := newDecoder(t, b, DecoderConfig{})
	if _, err := d.Decode([]byte{0x0a, 0x05, 0x01}, 0); err == nil {
		t.Fatal("truncated message: want an error")
	}
	//nolint:staticcheck // the deprecated in-band error
	r := &pb.SubscribeResponse{Response: &pb.SubscribeResponse_Error{Error: &pb.Error{Code: 5, Message: "no such path"}}}
	if _, err := d.DecodeResponse(r, 0); err == nil || !strings.Contains(err.Error(), "no such path") {
		t.Fatalf("in-band error: %v", err)
	}
	// A malformed update is counted and the rest of the notification kept.
	n := notif(t, ts1, "", upd(t, "/interfaces/interface[name=E1]/state/counters/in-octets", u64v(5)))
	raw, _ := protoMarshal(n)
	if _, err := d.Decode(raw, 0); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 1 {
		t.Fatalf("len %d", b.Len())
	}
	rec := b.NewRecord()
	rec.Release()
}

// TestDecodeIOSXRNativeCounters decodes IOS-XR's native interface
// statistics as the router streams them (JSON_IETF, a generic-counters
// container under a module-prefixed path, 64-bit values as JSON strings):
// its traffic counters are counters, which the detect stage turns into
// rates, and its times are gauges. Before, bytes-received and packets-sent
// were gauges: the detect stage scored the running total, which does not
// fall when the link does.
func TestDecodeIOSXRNativeCounters(t *testing.T) {
	r := notif(t, ts1, "Cisco-IOS-XR-infra-statsd-oper:infra-statistics/interfaces/interface[interface-name=HundredGigE0/0/0/0]/latest",
		upd(t, "generic-counters", jsonv(`{"bytes-received":"123456789012","packets-sent":"7","carrier-transitions":2,"seconds-since-packet-received":0}`)),
		upd(t, "data-rate/input-data-rate", jsonv(`"4200"`)),
	)
	out, _ := decodeAll(t, DecoderConfig{}, r)
	const p = "/infra-statistics/interfaces/interface/latest/"
	const k = "interface-name=HundredGigE0/0/0/0"
	checkSamples(t, out, []schemas.Sample{
		{Metric: p + "generic-counters/bytes-received", Keys: k, Kind: schemas.KindCounter, U64: 123456789012},
		{Metric: p + "generic-counters/carrier-transitions", Keys: k, Kind: schemas.KindCounter, U64: 2},
		{Metric: p + "generic-counters/packets-sent", Keys: k, Kind: schemas.KindCounter, U64: 7},
		{Metric: p + "generic-counters/seconds-since-packet-received", Keys: k, Kind: schemas.KindGauge, F64: 0},
		{Metric: p + "data-rate/input-data-rate", Keys: k, Kind: schemas.KindGauge, F64: 4200},
	})
}

// TestDecodeCountingLeaves decodes IOS-XR's native BGP neighbour as a
// router streams it (JSON_IETF under a module-prefixed path): the
// running totals whose names read as counts (messages-received,
// messages-sent, update-messages-received) are counters when their
// values are whole numbers, as proto integers too, so the detect stage
// scores their rates; a leaf of such a name whose value is text is a
// state, a fraction a gauge, and a time beside them
// (seconds-since-last-received) a gauge. Before, every one of the totals
// was a gauge.
func TestDecodeCountingLeaves(t *testing.T) {
	const prefix = "Cisco-IOS-XR-ipv4-bgp-oper:bgp/instances/instance[instance-name=default]/instance-active/default-vrf/neighbors/neighbor[neighbor-address=10.0.0.1]"
	r := notif(t, ts1, prefix,
		upd(t, "", jsonv(`{"messages-received":"123456","messages-sent":1200,"update-messages-received":17,"seconds-since-last-received":4,"capability-received":"route-refresh","share-received":0.5}`)),
		upd(t, "update-messages-sent", u64v(9)),
		upd(t, "messages-queued-in", u64v(2)),
	)
	out, _ := decodeAll(t, DecoderConfig{}, r)
	const p = "/bgp/instances/instance/instance-active/default-vrf/neighbors/neighbor/"
	const k = "instance-name=default,neighbor-address=10.0.0.1"
	checkSamples(t, out, []schemas.Sample{
		{Metric: p + "capability-received", Keys: k, Kind: schemas.KindState, Str: "route-refresh"},
		{Metric: p + "messages-received", Keys: k, Kind: schemas.KindCounter, U64: 123456},
		{Metric: p + "messages-sent", Keys: k, Kind: schemas.KindCounter, U64: 1200},
		{Metric: p + "seconds-since-last-received", Keys: k, Kind: schemas.KindGauge, F64: 4},
		{Metric: p + "share-received", Keys: k, Kind: schemas.KindGauge, F64: 0.5},
		{Metric: p + "update-messages-received", Keys: k, Kind: schemas.KindCounter, U64: 17},
		{Metric: p + "update-messages-sent", Keys: k, Kind: schemas.KindCounter, U64: 9},
		{Metric: p + "messages-queued-in", Keys: k, Kind: schemas.KindGauge, F64: 2},
	})
}
