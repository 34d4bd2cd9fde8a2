package backtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadLabels(t *testing.T) {
	at := func(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
	f := func(name, data string, want []Event) {
		t.Helper()
		path := writeFile(t, name, data)
		got, err := ReadLabels(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d events, want %d: %+v", name, len(got), len(want), got)
		}
		for i := range want {
			want[i].File = path
			if got[i] != want[i] {
				t.Errorf("%s event %d = %+v, want %+v", name, i, got[i], want[i])
			}
		}
	}
	// bigdama18: Node,Host,Start,End,Event,Type; Host and Type ignored.
	f("portflap.csv", "Node,Host,Start,End,Event,Type\nspine2,None,1504286090,1504286390,portflap,single\n\nleaf3,None,1504286450.5,1504286760,portflap,single\n",
		[]Event{
			{Device: "spine2", Kind: "portflap", Start: at(1504286090), End: at(1504286390), Line: 2},
			{Device: "leaf3", Kind: "portflap", Start: at(1504286450).Add(500 * time.Millisecond), End: at(1504286760), Line: 4},
		})
	// Generic CSV with interface, RFC 3339 times and kind.
	f("events.csv", "device,interface,start,end,kind\nr1,Ethernet3,2026-01-02T03:04:05Z,2026-01-02T03:09:05Z,link_down\n",
		[]Event{{Device: "r1", Keys: "name=Ethernet3", Kind: "link_down", Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			End: time.Date(2026, 1, 2, 3, 9, 5, 0, time.UTC), Line: 2}})
	// Keys win over interface.
	f("keys.csv", "Device,Keys,Interface,Start,End\nr1,name=Et1/1,Et9,1,2\n",
		[]Event{{Device: "r1", Keys: "name=Et1/1", Start: at(1), End: at(2), Line: 2}})
	// The simulator's labels.jsonl.
	f("labels.jsonl", `{"device":"sim-01","metric":"/interfaces/interface/state/counters/in-octets","keys":"name=Ethernet1","kind":"traffic_spike","start":"2026-11-23T10:45:00Z","end":"2026-11-23T10:55:00Z"}`+"\n",
		[]Event{{Device: "sim-01", Keys: "name=Ethernet1", Kind: "traffic_spike", Start: time.Date(2026, 11, 23, 10, 45, 0, 0, time.UTC),
			End: time.Date(2026, 11, 23, 10, 55, 0, 0, time.UTC), Line: 1}})
	// A fault's rows of one device (one per series) are one event, with
	// the first row's keys and line; the other end's rows another.
	f("rows.jsonl", `{"device":"sim-02","metric":"/interfaces/interface/state/counters/in-octets","keys":"name=Ethernet1","kind":"link_down","start":"2026-11-23T10:45:00Z","end":"2026-11-23T10:55:00Z"}`+"\n"+
		`{"device":"sim-02","metric":"/network-instances/network-instance/protocols/protocol/bgp/global/state/established","keys":"","kind":"link_down","start":"2026-11-23T10:45:00Z","end":"2026-11-23T10:55:00Z"}`+"\n"+
		`{"device":"sim-00","metric":"/interfaces/interface/state/counters/in-octets","keys":"name=Ethernet4","kind":"link_down","start":"2026-11-23T10:45:00Z","end":"2026-11-23T10:55:00Z"}`+"\n",
		[]Event{
			{Device: "sim-02", Keys: "name=Ethernet1", Kind: "link_down", Start: time.Date(2026, 11, 23, 10, 45, 0, 0, time.UTC), End: time.Date(2026, 11, 23, 10, 55, 0, 0, time.UTC), Line: 1},
			{Device: "sim-00", Keys: "name=Ethernet4", Kind: "link_down", Start: time.Date(2026, 11, 23, 10, 45, 0, 0, time.UTC), End: time.Date(2026, 11, 23, 10, 55, 0, 0, time.UTC), Line: 3},
		})
	// A row of a topology fault, with its peer and cause.
	f("topo.jsonl", `{"device":"sim-00","metric":"/interfaces/interface/state/counters/in-octets","keys":"name=Ethernet2","kind":"reroute","start":"2026-11-23T10:45:00Z","end":"2026-11-23T10:55:00Z","peer_device":"sim-05","peer_keys":"name=Ethernet1","effect_of":{"kind":"link_down","device":"sim-05","keys":"name=Ethernet2"}}`+"\n",
		[]Event{{Device: "sim-00", Keys: "name=Ethernet2", Kind: "reroute", Start: time.Date(2026, 11, 23, 10, 45, 0, 0, time.UTC),
			End: time.Date(2026, 11, 23, 10, 55, 0, 0, time.UTC), Line: 1}})
	// effect_of is accepted whatever its shape, and not used.
	f("effect.jsonl", `{"device":"sim-00","kind":"reroute","start":"2026-11-23T10:45:00Z","end":"2026-11-23T10:55:00Z","effect_of":{"kind":"link_down","why":"a later release"}}`+"\n",
		[]Event{{Device: "sim-00", Kind: "reroute", Start: time.Date(2026, 11, 23, 10, 45, 0, 0, time.UTC),
			End: time.Date(2026, 11, 23, 10, 55, 0, 0, time.UTC), Line: 1}})
	// Epoch seconds, as a number or a string, as in CSV.
	f("epoch.jsonl", `{"device":"sim-01","kind":"traffic_spike","start":1500000000,"end":"1500000060.5"}`+"\n",
		[]Event{{Device: "sim-01", Kind: "traffic_spike", Start: at(1500000000), End: at(1500000060).Add(500 * time.Millisecond), Line: 1}})
	// Epoch milliseconds (told by their magnitude) and YYYY-MM-DD
	// HH:MM:SS[.fff] (UTC unless an offset is given), in CSV and JSON.
	f("ms.csv", "device,start,end\nr1,1504286090000,1504286390500\nr2,2017-09-01 17:14:50,2017-09-01 19:19:50.5+02:00\n",
		[]Event{
			{Device: "r1", Start: at(1504286090), End: at(1504286390).Add(500 * time.Millisecond), Line: 2},
			{Device: "r2", Start: at(1504286090), End: at(1504286390).Add(500 * time.Millisecond), Line: 3},
		})
	f("ms.jsonl", `{"device":"sim-01","start":1504286090000,"end":"2017-09-01 17:19:50"}`+"\n",
		[]Event{{Device: "sim-01", Start: at(1504286090), End: at(1504286390), Line: 1}})
	// A run's savings rows are not events: skipped, the fault after them kept.
	f("savings.jsonl", `{"device":"sim-02","metric":"/interfaces/interface/state/oper-status","keys":"name=Ethernet5","kind":"admin_up_oper_down","start":"2026-11-23T10:00:00Z","end":"2026-11-23T11:00:00Z"}`+"\n"+
		`{"device":"sim-01","kind":"traffic_spike","start":"2026-11-23T10:45:00Z","end":"2026-11-23T10:55:00Z"}`+"\n",
		[]Event{{Device: "sim-01", Kind: "traffic_spike", Start: time.Date(2026, 11, 23, 10, 45, 0, 0, time.UTC),
			End: time.Date(2026, 11, 23, 10, 55, 0, 0, time.UTC), Line: 2}})
}

// TestReadLabelsErrors checks that every malformed labels file gives one
// line naming the file, the line and the problem.
func TestReadLabelsErrors(t *testing.T) {
	f := func(name, data, want string) {
		t.Helper()
		path := writeFile(t, name, data)
		_, err := ReadLabels(path)
		if err == nil {
			t.Fatalf("%s: no error, want %q", name, want)
		}
		if !strings.HasPrefix(err.Error(), path+":") || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q, want one line %s:…%s", name, err, path, want)
		}
	}
	f("a.csv", "Node,Start,End\nleaf1,1498754414,1498754597\nleaf2,soon,1498754597\n", ":3: start: \"soon\" is neither an epoch time (seconds, milliseconds…) nor RFC 3339 or YYYY-MM-DD HH:MM:SS[.fff]")
	f("b.csv", "Node,Start,End\nleaf1,1498754414,1498754000\n", ":2: end 2017-06-29T16:33:20Z is before start")
	f("c.csv", "Node,Start,End\n,1,2\n", ":2: no device")
	f("d.csv", "Node,Start\nleaf1,1\n", ":1: no end column")
	f("e.csv", "Node,Start,End\nleaf1,1,\n", ":2: end: empty")
	f("f.csv", "Node,Start,End\nleaf1,\"1,2\n", ":2: cannot parse row")
	f("g.jsonl", "{\"device\":\"a\",\"start\":\"2026-01-01T00:00:00Z\",\"end\":\"2026-01-01T00:01:00Z\"}\n{\"device\":\"a\",\"start\":\"x\"}\n", ":2: start: \"x\" is neither an epoch time (seconds, milliseconds…) nor RFC 3339 or YYYY-MM-DD HH:MM:SS[.fff]")
	f("i.jsonl", "{\"device\":\"a\",\"start\":\"2026-01-01T00:00:00Z\",\"end\":\"yesterday\"}\n", ":1: end: \"yesterday\" is neither an epoch time (seconds, milliseconds…) nor RFC 3339 or YYYY-MM-DD HH:MM:SS[.fff]")
	f("j.jsonl", "{\"device\":\"a\",\"start\":-5,\"end\":\"2026-01-01T00:01:00Z\"}\n", ":1: start: \"-5\" is out of range for an epoch time")
	f("m.csv", "Node,Start,End\nleaf1,1,2\nleaf1,1e30,2\n", ":3: start: \"1e30\" is out of range for an epoch time")
	f("n.csv", "Node,Start,End\nleaf1,2017-09-01 25:00:00,2\n", ":2: start: \"2017-09-01 25:00:00\" is neither an epoch time")
	f("k.jsonl", "{\"device\":\"a\",\"start\":true,\"end\":\"2026-01-01T00:01:00Z\"}\n", ":1: start: \"true\" is neither an epoch time (seconds, milliseconds…) nor RFC 3339 or YYYY-MM-DD HH:MM:SS[.fff]")
	f("l.jsonl", "{\"device\":\"a\",\"start\":\"2026-01-01T00:00:00Z\"}\n", ":1: start and end are required")
	f("h.jsonl", "{\"device\":\"a\",\"start\":\"2026-01-01T00:00:00Z\",\"end\":\"2026-01-01T00:01:00Z\",\"colour\":1}\n", ":1: cannot parse label")
}

// TestReadLabelsOneLabelPerLine: a labels.jsonl line holding two labels
// (a lost newline when files were joined) or a label and then garbage is
// a malformed row, with the one-line error of any other; before
// 2026-12-07 the first label was kept and the rest of the line dropped.
func TestReadLabelsOneLabelPerLine(t *testing.T) {
	const label = `{"device":"a","start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:01:00Z"}`
	f := func(line, want string) {
		t.Helper()
		path := writeFile(t, "l.jsonl", label+"\n"+line+"\n")
		ev, err := ReadLabels(path)
		if err == nil {
			t.Fatalf("%s: %d event(s), no error; want %q", line, len(ev), want)
		}
		if want = path + ":2: cannot parse label: " + want; err.Error() != want {
			t.Errorf("%s: error %q, want %q", line, err, want)
		}
	}
	f(label+strings.Replace(label, `"a"`, `"b"`, 1), `"{\"device\":\"b\",\"start\":\"2026-01-01T00:00:…" after the JSON object`)
	f(label+" trailing", `"trailing" after the JSON object`)
	f(label+"}", `"}" after the JSON object`)
	// Blanks around the label are no content.
	if ev, err := ReadLabels(writeFile(t, "b.jsonl", " "+label+" \t\r\n")); err != nil || len(ev) != 1 {
		t.Errorf("a label between blanks: %d event(s), %v; want 1, no error", len(ev), err)
	}
}

func TestCheckDevices(t *testing.T) {
	path := writeFile(t, "l.csv", "node,start,end\nleaf1,1,2\nleaf9,3,4\n")
	ev, err := ReadLabels(path)
	if err != nil {
		t.Fatal(err)
	}
	err = CheckDevices(ev, map[string]bool{"leaf1": true, "leaf2": true})
	want := path + `:3: unknown device "leaf9" (the data has leaf1, leaf2)`
	if err == nil || err.Error() != want {
		t.Errorf("CheckDevices = %v, want %s", err, want)
	}
	if err := CheckDevices(ev[:1], map[string]bool{"leaf1": true}); err != nil {
		t.Errorf("known devices: %v", err)
	}
}

// TestLabelsByteOrderMark: labels saved by a spreadsheet or an editor
// with a UTF-8 byte order mark read as without one, CSV and JSON lines.
func TestLabelsByteOrderMark(t *testing.T) {
	for _, d := range []string{
		"\ufeffdevice,start,end\nr1,1500000000,1500000005000\n",
		"\ufeff\"device\",\"start\",\"end\"\n\"r1\",\"1500000000\",\"1500000005\"\n",
		"\ufeff{\"device\":\"r1\",\"start\":1500000000000,\"end\":\"1500000005\"}\n",
	} {
		ev, err := parseLabels("l.csv", []byte(d))
		if err != nil || len(ev) != 1 || ev[0].Device != "r1" || ev[0].Start.Unix() != 1500000000 || ev[0].End.Unix() != 1500000005 {
			t.Errorf("%q: %v, %v", d, ev, err)
		}
	}
}
