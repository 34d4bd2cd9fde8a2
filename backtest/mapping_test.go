package backtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

func TestMappingColumn(t *testing.T) {
	m := DefaultMapping()
	f := func(name string, want Column) {
		t.Helper()
		if got := m.Column(name); got != want {
			t.Errorf("Column(%q) = %+v, want %+v", name, got, want)
		}
	}
	c, g := schemas.KindCounter, schemas.KindGauge
	f("HundredGigE0/0/0/0bytes-received", Column{ifCounters + "in-octets", "name=HundredGigE0/0/0/0", c})
	f("HundredGigE0/0/0/10bytes-sent", Column{ifCounters + "out-octets", "name=HundredGigE0/0/0/10", c})
	f("HundredGigE0/0/0/3packets-received", Column{ifCounters + "in-pkts", "name=HundredGigE0/0/0/3", c})
	f("HundredGigE0/0/0/3packets-sent", Column{ifCounters + "out-pkts", "name=HundredGigE0/0/0/3", c})
	f("HundredGigE0/0/0/3input-drops", Column{ifCounters + "in-discards", "name=HundredGigE0/0/0/3", c})
	f("HundredGigE0/0/0/3output-drops", Column{ifCounters + "out-discards", "name=HundredGigE0/0/0/3", c})
	f("HundredGigE0/0/0/3input-errors", Column{ifCounters + "in-errors", "name=HundredGigE0/0/0/3", c})
	f("HundredGigE0/0/0/3output-errors", Column{ifCounters + "out-errors", "name=HundredGigE0/0/0/3", c})
	f("HundredGigE0/0/0/3crc-errors", Column{ifCounters + "in-fcs-errors", "name=HundredGigE0/0/0/3", c})
	f("HundredGigE0/0/0/3carrier-transitions", Column{ifCounters + "carrier-transitions", "name=HundredGigE0/0/0/3", c})
	// Leaves without an OpenConfig equivalent keep their name under the
	// native prefix; rates, loads and counts are gauges.
	f("HundredGigE0/0/0/3input-data-rate", Column{"/native/input-data-rate", "name=HundredGigE0/0/0/3", g})
	f("HundredGigE0/0/0/3output-load", Column{"/native/output-load", "name=HundredGigE0/0/0/3", g})
	f("HundredGigE0/0/0/3bandwidth", Column{"/native/bandwidth", "name=HundredGigE0/0/0/3", g})
	f("HundredGigE0/0/0/3load-interval", Column{"/native/load-interval", "name=HundredGigE0/0/0/3", g})
	f("HundredGigE0/0/0/3output-buffer-failures", Column{"/native/output-buffer-failures", "name=HundredGigE0/0/0/3", c})
	f("Bundle-Ether1.100input-drops", Column{ifCounters + "in-discards", "name=Bundle-Ether1.100", c})
	f("0/RP0/CPU0no-route-packets", Column{"/native/no-route-packets", "name=0/RP0/CPU0", c})
	f("0/RP0/CPU0gre-lookup-failed-drop", Column{"/native/gre-lookup-failed-drop", "name=0/RP0/CPU0", c})
	f("global__established-neighbors-count-total", Column{"/native/global/established-neighbors-count-total", "", g})
	f("vrf__update-messages-received", Column{"/native/vrf/update-messages-received", "", c})
	f("performance-statistics__global__ipv4rib-server__rib-connection-up-count",
		Column{"/native/performance-statistics/global/ipv4rib-server/rib-connection-up-count", "", g})
	f("routes-counts", Column{"/native/routes-counts", "", g})
	f("protocol-route-memory", Column{"/native/protocol-route-memory", "", g})
	f("as", Column{"/native/as", "", g})
	// Interface states, after an interface (a prefix that starts with a
	// letter); the same leaves elsewhere keep their native names.
	st := schemas.KindState
	f("HundredGigE0/0/0/10oper-status", Column{schemas.MetricOperStatus, "name=HundredGigE0/0/0/10", st})
	f("Gi0/0/0/1state", Column{schemas.MetricOperStatus, "name=Gi0/0/0/1", st})
	f("Gi0/0/0/1line-state", Column{schemas.MetricOperStatus, "name=Gi0/0/0/1", st})
	f("Ethernet1oper-state", Column{schemas.MetricOperStatus, "name=Ethernet1", st})
	f("Bundle-Ether1.100admin-status", Column{schemas.MetricAdminStatus, "name=Bundle-Ether1.100", st})
	f("xe-0/0/1admin-state", Column{schemas.MetricAdminStatus, "name=xe-0/0/1", st})
	f("0/RP0/CPU0state", Column{"/native/state", "name=0/RP0/CPU0", g})
	f("global__state", Column{"/native/global/state", "", g})
	f("oper-status", Column{"/native/oper-status", "", g})
}

// TestMappingPathColumns: a column named by a gNMI path maps to the metric,
// keys and kind the gNMI collector gives that leaf; a leaf the collector
// leaves to the value's type takes the suffix guess (a guess the first
// value settles); a Leaves entry for the metric overrides it; a name that
// is not a valid path is the metric as it is, without keys.
func TestMappingPathColumns(t *testing.T) {
	m := DefaultMapping()
	c, g, st := schemas.KindCounter, schemas.KindGauge, schemas.KindState
	checkColumns(t, m, []columnCase{
		{"/interfaces/interface[name=Ethernet1]/state/counters/in-octets", Column{ifCounters + "in-octets", "name=Ethernet1", c}, true},
		{"/interfaces/interface[name=Ethernet1]/state/oper-status", Column{schemas.MetricOperStatus, "name=Ethernet1", st}, false},
		{"openconfig:/openconfig-interfaces:interfaces/interface[name=et-0/0/1]/state/admin-status", Column{schemas.MetricAdminStatus, "name=et-0/0/1", st}, false},
		{"/network-instances/network-instance[name=default]/protocols/protocol[identifier=BGP][name=BGP]/bgp/neighbors/neighbor[neighbor-address=10.0.0.1]/state/session-state",
			Column{schemas.MetricBGPSessionState, schemas.BGPInstanceKeys + ",neighbor-address=10.0.0.1", st}, false},
		{"/system/cpus/cpu[index=0]/state/total/instant", Column{"/system/cpus/cpu/state/total/instant", "index=0", g}, true},
		{"/qos/interfaces/interface[interface-id=Ethernet1]/output/queues/queue[name=BE]/state/dropped-pkts", Column{"/qos/interfaces/interface/output/queues/queue/state/dropped-pkts", "interface-id=Ethernet1,name=BE", c}, true},
		{"/vendor/x[id=1]/buffer-drops", Column{"/vendor/x/buffer-drops", "id=1", c}, true},
		{"/vendor/x[id=1]/temperature", Column{"/vendor/x/temperature", "id=1", g}, true},
		{"/a/b[k]/c", Column{"/a/b[k]/c", "", g}, true}, // not a valid path: its name, no keys
	})
	o, err := ParseMapping("override.yaml", []byte("leaves:\n  /vendor/x/temperature: {kind: counter}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Column("/vendor/x[id=1]/temperature"); got != (Column{"/vendor/x/temperature", "id=1", c}) {
		t.Errorf("with a Leaves entry for the metric: %+v, want a counter", got)
	}
}

// TestMappingPromColumns: a column named as a Prometheus series (Grafana's
// CSV export): an IF-MIB object is the SNMP collector's metric keyed by the
// interface's ifName (else ifDescr, else ifIndex); another metric keeps its
// name under the native prefix, keyed by its labels but instance and job,
// a counter when it ends in _total.
func TestMappingPromColumns(t *testing.T) {
	m := DefaultMapping()
	c, g, st := schemas.KindCounter, schemas.KindGauge, schemas.KindState
	checkColumns(t, m, []columnCase{
		{`ifHCInOctets{ifName="Ethernet1", instance="r1:161", job="snmp"}`, Column{schemas.MetricInOctets, "name=Ethernet1", c}, true},
		{`ifOperStatus{ifDescr="Gi0/0/1, uplink",ifIndex="3"}`, Column{schemas.MetricOperStatus, `name=Gi0/0/1\, uplink`, st}, false},
		{`node_network_receive_bytes_total{device="eth0",instance="h1:9100"}`, Column{"/native/node_network_receive_bytes_total", "device=eth0", c}, true},
		{`node_load1{}`, Column{"/native/node_load1", "", g}, true},
		{`temp{sensor="a \"b\"", zone="2"}`, Column{"/native/temp", `sensor=a "b",zone=2`, g}, true},
		{`bad{label=unquoted}`, Column{"/native/bad{label=unquoted}", "", g}, true}, // not a series: read as before
	})
}

// columnCase is a column name, the series it maps to and whether its
// kind is a guess.
type columnCase struct {
	name    string
	want    Column
	guessed bool
}

// checkColumns checks that m maps each case's column name as it says.
func checkColumns(t *testing.T, m *Mapping, cases []columnCase) {
	t.Helper()
	for _, tc := range cases {
		got, guessed := m.column(tc.name)
		if got != tc.want || guessed != tc.guessed {
			t.Errorf("column(%q) = %+v (guessed %v), want %+v (guessed %v)", tc.name, got, guessed, tc.want, tc.guessed)
		}
	}
}

func TestMappingDevice(t *testing.T) {
	m := DefaultMapping()
	f := func(path, want string) {
		t.Helper()
		if got := WideDevice(path, m); got != want {
			t.Errorf("WideDevice(%q) = %q, want %q", path, got, want)
		}
	}
	f("data/leaf1portflap_first.csv.gz", "leaf1")
	f("spine4bgpclear_second.csv", "spine4")
	f("/x/router-a.csv", "router-a")
	f("edge-rtr12.csv.gz", "edge-rtr12")
	m.Device = "core-1"
	f("data/leaf1portflap_first.csv.gz", "core-1")
}

func TestParseMapping(t *testing.T) {
	m, err := ParseMapping("m.yaml", []byte(`
native_prefix: /vendor/x/
leaves:
  rx-bytes: {metric: /interfaces/interface/state/counters/in-octets, kind: counter}
  temp-now: {metric: /components/component/state/temperature/instant, kind: gauge}
  fill-level: {metric: /x/fill}
suffixes:
  - {suffix: -level, kind: gauge}
  - {suffix: queue-drops, kind: gauge}
default_kind: counter
device_pattern: '^node-(\w+)$'
`))
	if err != nil {
		t.Fatal(err)
	}
	f := func(name string, want Column) {
		t.Helper()
		if got := m.Column(name); got != want {
			t.Errorf("Column(%q) = %+v, want %+v", name, got, want)
		}
	}
	f("Ethernet1rx-bytes", Column{ifCounters + "in-octets", "name=Ethernet1", schemas.KindCounter})
	f("temp-now", Column{"/components/component/state/temperature/instant", "", schemas.KindGauge})
	f("fill-level", Column{"/x/fill", "", schemas.KindGauge})                                          // kind by the added suffix
	f("Ethernet1tx-level", Column{"/vendor/x/tx-level", "name=Ethernet1", schemas.KindGauge})          // native prefix, added suffix
	f("Ethernet1queue-drops", Column{"/vendor/x/queue-drops", "name=Ethernet1", schemas.KindGauge})    // added suffixes come first
	f("Ethernet1tail-drops", Column{"/vendor/x/tail-drops", "name=Ethernet1", schemas.KindCounter})    // default suffixes stay
	f("Ethernet1bytes-sent", Column{ifCounters + "out-octets", "name=Ethernet1", schemas.KindCounter}) // the defaults stay
	f("mystery", Column{"/vendor/x/mystery", "", schemas.KindCounter})                                 // default_kind
	if d := m.DeviceOf("node-r7"); d != "r7" {
		t.Errorf("device %q, want r7", d)
	}
	bad := func(yaml, want string) {
		t.Helper()
		_, err := ParseMapping("m.yaml", []byte(yaml))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseMapping(%q) = %v, want an error with %q", yaml, err, want)
		}
	}
	bad("leaves:\n  x: {kind: status}\n", "m.yaml:2: leaves.x.kind")
	bad("suffixes:\n  - {suffix: -x, kind: rate}\n", "suffixes[0].kind")
	bad("native_prefix: vendor\n", "native_prefix")
	bad("device_pattern: '('\n", "device_pattern")
	bad("leafs: {}\n", "m.yaml")
}

// TestWideSource reads a small wide CSV: the unnamed index column, the time
// column, counters written as floats and integers, gauges, and empty cells
// that are skipped rather than read as zeros.
func TestWideSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r9lab.csv")
	data := ",time,Eth1bytes-received,Eth1input-data-rate,global__established-neighbors-count-total\n" +
		"0,1500000000.0,100.0,5,3\n" +
		"1,1500000005.5,,6,\n" +
		"2,1500000011,18446744073709551615,,2\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := OpenWide([]string{path}, DefaultMapping())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var got []schemas.Sample
	for {
		b, err := src.Next(t.Context())
		if err != nil {
			break
		}
		got = append(got, b...)
	}
	in, rate, est := ifCounters+"in-octets", "/native/input-data-rate", "/native/global/established-neighbors-count-total"
	want := []schemas.Sample{
		{TS: 1500000000e9, Metric: in, Keys: "name=Eth1", Kind: schemas.KindCounter, U64: 100},
		{TS: 1500000000e9, Metric: rate, Keys: "name=Eth1", Kind: schemas.KindGauge, F64: 5},
		{TS: 1500000000e9, Metric: est, Kind: schemas.KindGauge, F64: 3},
		{TS: 1500000005.5e9, Metric: rate, Keys: "name=Eth1", Kind: schemas.KindGauge, F64: 6},
		{TS: 1500000011e9, Metric: in, Keys: "name=Eth1", Kind: schemas.KindCounter, U64: 18446744073709551615},
		{TS: 1500000011e9, Metric: est, Kind: schemas.KindGauge, F64: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("%d samples, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		want[i].Device, want[i].Source = "r9", WideSourceName
		if got[i] != want[i] {
			t.Errorf("sample %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestWideSourceErrors checks that bad input names the file and line.
func TestWideSourceErrors(t *testing.T) {
	dir := t.TempDir()
	f := func(data, want string) {
		t.Helper()
		path := filepath.Join(dir, "r1.csv")
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		src, _ := OpenWide([]string{path}, DefaultMapping())
		defer src.Close()
		var err error
		for err == nil {
			_, err = src.Next(t.Context())
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q, want it to contain %q", err, want)
		}
	}
	f("a,b\n1,2\n", "no time column")
	f("time,Eth1bytes-sent\n1500000000,12\n1500000005,twelve\n", "r1.csv:3: cannot read column 2")
	f("time,Eth1bytes-sent\nyesterday,12\n", "r1.csv:2: cannot read time")
}

// TestMappingPromInterfaceKeys: an IF-MIB column's keys are those the SNMP
// collector gives the interface: an empty ifName (the SNMP exporter writes
// ifName="" where the agent has none) falls back to ifDescr, and an
// interface known by its ifIndex alone is name=ifIndexN.
func TestMappingPromInterfaceKeys(t *testing.T) {
	c, st := schemas.KindCounter, schemas.KindState
	checkColumns(t, DefaultMapping(), []columnCase{
		{`ifHCInOctets{ifDescr="Gi0/1", ifName="", instance="r1"}`, Column{schemas.MetricInOctets, "name=Gi0/1", c}, true},
		{`ifOperStatus{ifAlias="", ifDescr="", ifIndex="7", ifName=""}`, Column{schemas.MetricOperStatus, "name=ifIndex7", st}, false},
		{`ifInErrors{ifIndex="3"}`, Column{schemas.MetricInErrors, "name=ifIndex3", c}, true},
	})
}

// TestMappingPathLeafWithoutKind: a --mapping entry keyed by a gNMI metric
// that renames it without a kind keeps the kind the collector gives the
// leaf (a counter under counters, a state for oper-status), not the IOS-XR
// suffix guess.
func TestMappingPathLeafWithoutKind(t *testing.T) {
	o, err := ParseMapping("override.yaml", []byte("leaves:\n"+
		"  /interfaces/interface/state/counters/in-octets: {metric: /x/in}\n"+
		"  /interfaces/interface/state/oper-status: {metric: /x/oper}\n"))
	if err != nil {
		t.Fatal(err)
	}
	checkColumns(t, o, []columnCase{
		{"/interfaces/interface[name=E1]/state/counters/in-octets", Column{"/x/in", "name=E1", schemas.KindCounter}, false},
		{"/interfaces/interface[name=E1]/state/oper-status", Column{"/x/oper", "name=E1", schemas.KindState}, false},
	})
}
