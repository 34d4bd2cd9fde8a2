package backtest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

// writeWide writes data to dir/name, gzip-compressed when name ends in .gz.
func writeWide(t *testing.T, dir, name, data string) string {
	t.Helper()
	b := []byte(data)
	if strings.HasSuffix(name, ".gz") {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		b = buf.Bytes()
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readWide reads every sample of the wide CSV files at paths, and the
// error that ended the reading (nil at the end of the files).
func readWide(t *testing.T, m *Mapping, paths ...string) ([]schemas.Sample, Source, error) {
	t.Helper()
	src, err := OpenWide(paths, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	var got []schemas.Sample
	for {
		b, err := src.Next(t.Context())
		if errors.Is(err, io.EOF) {
			return got, src, nil
		}
		if err != nil {
			return got, src, err
		}
		got = append(got, b...)
	}
}

// sampleString is a short form of a sample for test failures:
// "TS DEVICE METRIC{KEYS} kind=value".
func sampleString(s schemas.Sample) string {
	v := ""
	switch s.Kind {
	case schemas.KindCounter:
		v = fmt.Sprintf("counter=%d", s.U64)
	case schemas.KindGauge:
		v = fmt.Sprintf("gauge=%g", s.F64)
	case schemas.KindState:
		v = fmt.Sprintf("state=%s", s.Str)
	}
	return fmt.Sprintf("%d %s %s{%s} %s", s.TS, s.Device, s.Metric, s.Keys, v)
}

func checkSamples(t *testing.T, got []schemas.Sample, want []string) {
	t.Helper()
	var g []string
	for _, s := range got {
		if s.Source != WideSourceName {
			t.Errorf("source %q, want %q", s.Source, WideSourceName)
		}
		g = append(g, sampleString(s))
	}
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("samples:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

// TestWideStateColumns reads text columns as state samples: the interface
// state leaves (oper-status, admin-status, IOS-XR's state and line-state)
// become the interface's oper-status and admin-status with keys name=IF,
// as the detect stage follows them; a leaf with no mapping whose first
// value is text is a state of its own (native) metric, even when its kind
// guess by suffix was a counter or gauge; a listed leaf or a column whose
// first value was a number keeps failing on text.
func TestWideStateColumns(t *testing.T) {
	dir := t.TempDir()
	path := writeWide(t, dir, "r1.csv.gz", ",time,HundredGigE0/0/0/10oper-status,HundredGigE0/0/0/10admin-status,"+
		"Gi0/0/0/1state,Gi0/0/0/2line-state,Gi0/0/0/3oper-state,Gi0/0/0/1admin-state,"+
		"neighbor__session-state,0/RP0/CPU0state,global__state,last-error-messages\n"+
		"0,1500000000,UP,UP,im-state-up,im-state-up,UP,UP,bgp-st-estab,IOS XR RUN,ready,ok\n"+
		"1,1500000005,DOWN,UP,im-state-down,im-state-down,DOWN,UP,,IOS XR RUN,,\n"+
		"2,1500000010,,,im-state-admin-down,im-state-admin-down,DOWN,DOWN,bgp-st-idle,,ready,bad crc\n")
	got, _, err := readWide(t, DefaultMapping(), path)
	if err != nil {
		t.Fatal(err)
	}
	const (
		oper  = schemas.MetricOperStatus
		admin = schemas.MetricAdminStatus
		t0    = "1500000000000000000"
		t1    = "1500000005000000000"
		t2    = "1500000010000000000"
	)
	row := func(ts string, cells ...string) []string {
		var out []string
		for _, c := range cells {
			out = append(out, ts+" r1 "+c)
		}
		return out
	}
	var want []string
	want = append(want, row(t0,
		oper+"{name=HundredGigE0/0/0/10} state=UP", admin+"{name=HundredGigE0/0/0/10} state=UP",
		oper+"{name=Gi0/0/0/1} state=im-state-up", oper+"{name=Gi0/0/0/2} state=im-state-up",
		oper+"{name=Gi0/0/0/3} state=UP", admin+"{name=Gi0/0/0/1} state=UP",
		"/native/neighbor/session-state{} state=bgp-st-estab", "/native/state{name=0/RP0/CPU0} state=IOS XR RUN",
		"/native/global/state{} state=ready", "/native/last-error-messages{} state=ok")...)
	want = append(want, row(t1,
		oper+"{name=HundredGigE0/0/0/10} state=DOWN", admin+"{name=HundredGigE0/0/0/10} state=UP",
		oper+"{name=Gi0/0/0/1} state=im-state-down", oper+"{name=Gi0/0/0/2} state=im-state-down",
		oper+"{name=Gi0/0/0/3} state=DOWN", admin+"{name=Gi0/0/0/1} state=UP",
		"/native/state{name=0/RP0/CPU0} state=IOS XR RUN")...)
	want = append(want, row(t2,
		oper+"{name=Gi0/0/0/1} state=im-state-admin-down", oper+"{name=Gi0/0/0/2} state=im-state-admin-down",
		oper+"{name=Gi0/0/0/3} state=DOWN", admin+"{name=Gi0/0/0/1} state=DOWN",
		"/native/neighbor/session-state{} state=bgp-st-idle", "/native/global/state{} state=ready",
		"/native/last-error-messages{} state=bad crc")...)
	checkSamples(t, got, want)

	// A state column whose values are numbers (SNMP's ifOperStatus) stays
	// a state: the detect stage reads "1" and "2" as up and down.
	path = writeWide(t, dir, "r2.csv", "time,Eth1oper-status,Eth1admin-status\n1500000000,1,1\n1500000005,2,1\n")
	got, _, err = readWide(t, DefaultMapping(), path)
	if err != nil {
		t.Fatal(err)
	}
	checkSamples(t, got, []string{
		t0 + " r2 " + oper + "{name=Eth1} state=1", t0 + " r2 " + admin + "{name=Eth1} state=1",
		t1 + " r2 " + oper + "{name=Eth1} state=2", t1 + " r2 " + admin + "{name=Eth1} state=1",
	})

	// kind: state in a mapping makes a listed leaf a state whatever its
	// values; a listed counter or gauge, or a column whose first value was
	// a number, fails on text with FILE:LINE and the column.
	m, err := ParseMapping("m.yaml", []byte("leaves:\n  health: {kind: state}\n  phase: {metric: /x/phase, kind: gauge}\n"))
	if err != nil {
		t.Fatal(err)
	}
	path = writeWide(t, dir, "r3.csv", "time,health\n1500000000,0\n1500000005,degraded\n")
	got, _, err = readWide(t, m, path)
	if err != nil {
		t.Fatal(err)
	}
	checkSamples(t, got, []string{t0 + " r3 /native/health{} state=0", t1 + " r3 /native/health{} state=degraded"})
	bad := func(m *Mapping, data, want string) {
		t.Helper()
		path := writeWide(t, dir, "r4.csv", data)
		_, _, err := readWide(t, m, path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}
	bad(m, "time,phase\n1500000000,on\n", `r4.csv:2: cannot read column 2 "/x/phase": "on" is not a number`)
	bad(DefaultMapping(), "time,Eth1bytes-received\n1500000000,UP\n", `r4.csv:2: cannot read column 2 "/interfaces/interface/state/counters/in-octets": "UP" is not a number`)
	bad(DefaultMapping(), "time,Eth1input-data-rate\n1500000000,5\n1500000005,n/a later\n", `r4.csv:3: cannot read column 2 "/native/input-data-rate": "n/a later" is not a number`)
}

// TestWideSameSeries: when several columns of a file map to one series
// (IOS-XR's state and line-state are both the interface's oper-status; a
// header that names a column twice), the first one in the header is read
// and the others are not, so that a series has one sample per row and
// one kind.
func TestWideSameSeries(t *testing.T) {
	path := writeWide(t, t.TempDir(), "r1.csv", "time,Gi0/0/0/1state,Gi0/0/0/1line-state,x,x\n"+
		"1500000000,im-state-up,im-state-down,1,up\n1500000005,,im-state-down,2,down\n")
	got, _, err := readWide(t, DefaultMapping(), path)
	if err != nil {
		t.Fatal(err)
	}
	oper := schemas.MetricOperStatus
	checkSamples(t, got, []string{
		"1500000000000000000 r1 " + oper + "{name=Gi0/0/0/1} state=im-state-up",
		"1500000000000000000 r1 /native/x{} gauge=1",
		"1500000005000000000 r1 /native/x{} gauge=2",
	})
}

// TestWideLinkDownEndToEnd replays a wide CSV whose interface oper-status
// goes UP → DOWN → UP through backtest.Run with the default detect
// configuration: the detect stage's state path fires link_down at the DOWN
// row's timestamp and resolves it at the UP row's. The columns are named
// as IOS-XR exports them, and as an export of streamed telemetry does, by
// their gNMI paths.
func TestWideLinkDownEndToEnd(t *testing.T) {
	t.Run("ios-xr", func(t *testing.T) {
		wideLinkDown(t, "HundredGigE0/0/0/10oper-status,HundredGigE0/0/0/10admin-status,HundredGigE0/0/0/10bytes-received", "name=HundredGigE0/0/0/10", "UP", "DOWN")
	})
	t.Run("gnmi-paths", func(t *testing.T) {
		wideLinkDown(t, "/interfaces/interface[name=Ethernet1]/state/oper-status,openconfig:/interfaces/interface[name=Ethernet1]/state/admin-status,"+
			"/openconfig-interfaces:interfaces/interface[name=Ethernet1]/state/counters/in-octets", "name=Ethernet1", "UP", "DOWN")
	})
	t.Run("prometheus", func(t *testing.T) {
		// As Grafana exports the SNMP exporter's series: IF-MIB's
		// ifOperStatus up(1) and down(2).
		wideLinkDown(t, `"ifOperStatus{ifName=""Ethernet1"", instance=""r1"", job=""snmp""}",`+
			`"ifAdminStatus{ifName=""Ethernet1"", instance=""r1"", job=""snmp""}",`+
			`"ifHCInOctets{ifName=""Ethernet1"", instance=""r1"", job=""snmp""}"`, "name=Ethernet1", "1", "2")
	})
}

// wideLinkDown is TestWideLinkDownEndToEnd on the columns of header (an
// interface's oper-status, admin-status and a traffic counter, in that
// order) of the interface keyed keys, whose states read upState and
// downState.
func wideLinkDown(t *testing.T, header, keys, upState, downState string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("time," + header + "\n")
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const down, up = 40, 46
	for i := range 80 {
		st := upState
		if i >= down && i < up {
			st = downState
		}
		fmt.Fprintf(&b, "%d,%s,%s,%d\n", t0.Add(time.Duration(i)*5*time.Second).Unix(), st, upState, 1000*i)
	}
	path := writeWide(t, t.TempDir(), "leaf9.csv", b.String())
	src, err := OpenWide([]string{path}, DefaultMapping())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dets, st, err := Run(t.Context(), detect.Config{}, src, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if !st.StateSeries[schemas.SeriesKey{Device: "leaf9", Metric: schemas.MetricOperStatus, Keys: keys}] {
		t.Errorf("state series %v, want leaf9's oper-status", st.StateSeries)
	}
	// The table says how many series carried states: oper- and admin-status.
	var out strings.Builder
	if err := PrintTable(&out, []*Result{{Name: "default", Stats: st}}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`series with state samples[^\n|]*\|\s+2\|`).MatchString(out.String()) {
		t.Errorf("the table does not show the 2 state series:\n%s", out.String())
	}
	var fired, resolved bool
	for _, d := range dets {
		t.Logf("%s %s %s %s %s", d.EventTime.Format(time.RFC3339), d.State, d.Detector, d.Metric, d.Keys)
		if d.Detector != "link_down" || d.Metric != schemas.MetricOperStatus || d.Keys != keys {
			continue
		}
		switch d.State {
		case schemas.StateFiring:
			fired = true
			if want := t0.Add(down * 5 * time.Second); !d.EventTime.Equal(want) {
				t.Errorf("link_down fired at %v, want the DOWN row's %v", d.EventTime, want)
			}
		case schemas.StateResolved:
			resolved = true
			if want := t0.Add(up * 5 * time.Second); !d.EventTime.Equal(want) {
				t.Errorf("link_down resolved at %v, want the UP row's %v", d.EventTime, want)
			}
		}
	}
	if !fired || !resolved {
		t.Errorf("link_down fired %v, resolved %v; want both", fired, resolved)
	}
}

// TestWideMissingValues skips the missing-value tokens of every exporter
// (nan, NaN, NA, N/A, null, None, -, any case) and infinities as it skips
// empty cells, in counters, gauges and states alike, and counts them; a
// column whose first cells are missing is settled by its first value.
func TestWideMissingValues(t *testing.T) {
	dir := t.TempDir()
	path := writeWide(t, dir, "r1.csv", "time,Eth1bytes-received,Eth1input-data-rate,Eth1oper-status,peer__session-state\n"+
		"1500000000,nan,NaN,NA,N/A\n"+
		"1500000005,null,None,-,NULL\n"+
		"1500000010,10,inf,UP,n/a\n"+
		"1500000015,NONE,-Inf,none,Established\n"+
		"1500000020,20,+Infinity,DOWN,na\n"+
		"1500000025, nan ,2.5,,\n")
	got, src, err := readWide(t, DefaultMapping(), path)
	if err != nil {
		t.Fatal(err)
	}
	in, rate, oper := ifCounters+"in-octets", "/native/input-data-rate", schemas.MetricOperStatus
	checkSamples(t, got, []string{
		"1500000010000000000 r1 " + in + "{name=Eth1} counter=10",
		"1500000010000000000 r1 " + oper + "{name=Eth1} state=UP",
		"1500000015000000000 r1 /native/peer/session-state{} state=Established",
		"1500000020000000000 r1 " + in + "{name=Eth1} counter=20",
		"1500000020000000000 r1 " + oper + "{name=Eth1} state=DOWN",
		"1500000025000000000 r1 " + rate + "{name=Eth1} gauge=2.5",
	})
	sk, ok := src.(interface{ Skipped() int64 })
	if !ok {
		t.Fatalf("%T does not count the cells it skips", src)
	}
	if n := sk.Skipped(); n != 16 {
		t.Errorf("%d cells skipped, want 16", n)
	}

	// A replay says how many, in its stats and in one line of the table.
	ds, err := LoadDataset(FormatWide, []string{path}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(t.Context(), "default", detect.Config{}, ds, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Skipped != 16 || res.Stats.Points != 6 {
		t.Errorf("replay: %d points, %d cells skipped; want 6 and 16", res.Stats.Points, res.Stats.Skipped)
	}
	var out strings.Builder
	if err := PrintTable(&out, []*Result{res}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "cells skipped"); n != 1 || !regexp.MustCompile(`cells skipped[^\n|]*\|\s+16\|`).MatchString(out.String()) {
		t.Errorf("the table does not show the 16 cells skipped on one line:\n%s", out.String())
	}
}

// TestWideCounterCells: a counter cell must be a counter's value, a
// non-negative integer ("99648733.0" is one); a negative or fractional
// cell of a listed counter is an error naming FILE:LINE and the column,
// not a value truncated toward zero. A leaf whose kind is only guessed
// as a counter (by its suffix) and whose first value is negative or
// fractional is a gauge: the data says it is no counter.
func TestWideCounterCells(t *testing.T) {
	dir := t.TempDir()
	bad := func(data, want string) {
		t.Helper()
		_, _, err := readWide(t, DefaultMapping(), writeWide(t, dir, "r1.csv", data))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}
	const col = `cannot read column 2 "/interfaces/interface/state/counters/in-octets": `
	bad("time,Eth1bytes-received\n1500000000,12.5\n", `r1.csv:2: `+col+`"12.5" is not a counter value (a whole number from 0 to 2^64-1)`)
	bad("time,Eth1bytes-received\n1500000000,12\n1500000005,-3\n", `r1.csv:3: `+col+`"-3" is not a counter value (a whole number from 0 to 2^64-1)`)
	bad("time,Eth1bytes-received\n1500000000,1e30\n", `r1.csv:2: `+col+`"1e30" is not a counter value`)
	bad("time,Eth1output-buffer-failures\n1500000000,3\n1500000005,0.5\n", `r1.csv:3: cannot read column 2 "/native/output-buffer-failures": "0.5" is not a counter value`)

	got, _, err := readWide(t, DefaultMapping(), writeWide(t, dir, "r2.csv",
		"time,Eth1bytes-received,Eth1tail-drops,Eth1output-buffer-failures\n1500000000,7.0,0.25,-1\n1500000005,1.8e3,3,2\n"))
	if err != nil {
		t.Fatal(err)
	}
	checkSamples(t, got, []string{
		"1500000000000000000 r2 " + ifCounters + "in-octets{name=Eth1} counter=7",
		"1500000000000000000 r2 /native/tail-drops{name=Eth1} gauge=0.25",
		"1500000000000000000 r2 /native/output-buffer-failures{name=Eth1} gauge=-1",
		"1500000005000000000 r2 " + ifCounters + "in-octets{name=Eth1} counter=1800",
		"1500000005000000000 r2 /native/tail-drops{name=Eth1} gauge=3",
		"1500000005000000000 r2 /native/output-buffer-failures{name=Eth1} gauge=2",
	})
}

// TestWideTimeColumn reads the time column by any of its usual names (the
// first one in the header; the others are not features) in epoch seconds,
// milliseconds, microseconds or nanoseconds, the unit told by the first
// row's magnitude, or as RFC 3339 or "YYYY-MM-DD HH:MM:SS[.fff]" (UTC
// unless an offset is given). An index column, unnamed or pandas'
// "Unnamed: 0", and a UTF-8 byte order mark are not features either.
func TestWideTimeColumn(t *testing.T) {
	dir := t.TempDir()
	const (
		t0 = "1500000000000000000"
		t1 = "1500000005250000000"
	)
	f := func(name, head, row0, row1 string, want0, want1 string) {
		t.Helper()
		path := writeWide(t, dir, name, head+",Eth1input-data-rate\n"+row0+",1\n"+row1+",2\n")
		got, _, err := readWide(t, DefaultMapping(), path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		dev := WideDevice(path, DefaultMapping())
		checkSamples(t, got, []string{
			want0 + " " + dev + " /native/input-data-rate{name=Eth1} gauge=1",
			want1 + " " + dev + " /native/input-data-rate{name=Eth1} gauge=2",
		})
	}
	f("s1.csv", "time", "1500000000", "1500000005.25", t0, t1)
	f("s2.csv.gz", "Timestamp", "1500000000.0", "1500000005.25", t0, t1)
	f("s3.csv", "ts", "1500000000000", "1500000005250", t0, t1)
	f("s4.csv", "TS", "1500000000000.0", "1500000005250.5", t0, "1500000005250500000")
	f("s5.csv.gz", "time", "1500000000000000", "1500000005250000", t0, t1)
	f("s6.csv", "time", "1500000000000000000", "1500000005250000001", t0, "1500000005250000001")
	f("s7.csv", "datetime", "2017-07-14T02:40:00Z", "2017-07-14T04:40:05.25+02:00", t0, t1)
	f("s8.csv", "Date", "2017-07-14 02:40:00", "2017-07-14 02:40:05.250", t0, t1)
	f("s9.csv", "date", "2017-07-14 04:40:00+02:00", "2017-07-14T02:40:05.25", t0, t1)
	f("s10.csv", "\ufefftime", "1500000000", "1500000005.25", t0, t1)
	f("s11.csv", "Unnamed: 0,time", "0,1500000000", "1,1500000005.25", t0, t1)
	f("s12.csv", "\ufeff,timestamp,date", "0,1500000000,2017-07-14", "1,1500000005.25,2017-07-14", t0, t1)
	f("s13.csv", "date,time", "2017-07-14 02:40:00,x", "2017-07-14 02:40:05.25,y", t0, t1)
	// Exporters' names: InfluxDB's _time, Elasticsearch's @timestamp, a
	// unit or a zone after the name.
	f("s14.csv", "_time", "2017-07-14T02:40:00Z", "2017-07-14T02:40:05.25Z", t0, t1)
	f("s15.csv", "@timestamp", "2017-07-14T02:40:00.000Z", "2017-07-14T02:40:05.250Z", t0, t1)
	f("s16.csv", "timestamp_ms", "1500000000000", "1500000005250", t0, t1)
	f("s17.csv", "Time (UTC)", "2017-07-14 02:40:00", "2017-07-14 02:40:05.25", t0, t1)
	f("s18.csv", "TIME_UTC", "2017-07-14 02:40:00", "2017-07-14 02:40:05.25", t0, t1)

	bad := func(data, want string) {
		t.Helper()
		_, _, err := readWide(t, DefaultMapping(), writeWide(t, dir, "r1.csv", data))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}
	bad("when,Eth1bytes-sent\n1500000000,12\n", "r1.csv: no time column in the header (want time, timestamp, ts, datetime or date)")
	bad("timer,Eth1bytes-sent\n1500000000,12\n", "r1.csv: no time column in the header")
	bad("time,Eth1bytes-sent\nyesterday,12\n", `r1.csv:2: cannot read time "yesterday": want epoch seconds, milliseconds, microseconds or nanoseconds, RFC 3339 or YYYY-MM-DD HH:MM:SS[.fff]`)
	bad("time,Eth1bytes-sent\n1500000000000,12\n1500000005,13\n", `r1.csv:3: cannot read time "1500000005": want epoch milliseconds, as in the first row`)
	bad("time,Eth1bytes-sent\n1500000000,12\n2017-07-14 02:40:05,13\n", `r1.csv:3: cannot read time "2017-07-14 02:40:05": want epoch seconds, as in the first row`)
	bad("time,Eth1bytes-sent\n2017-07-14 02:40:00,12\n1500000005,13\n", `r1.csv:3: cannot read time "1500000005": want RFC 3339 or YYYY-MM-DD HH:MM:SS[.fff], as in the first row`)
	bad("time,Eth1bytes-sent\n-5,12\n", `r1.csv:2: cannot read time "-5": want epoch`)
	bad("time,Eth1bytes-sent\n9999999999999999999,12\n", `r1.csv:2: cannot read time "9999999999999999999": out of range`)
	bad("time,Eth1bytes-sent\n1500000000,12\n,13\n", `r1.csv:3: cannot read time "": want epoch seconds, as in the first row`)
}

// TestWideExportForms reads exports that TestWideTimeColumn does not
// cover: a byte order mark before a quoted header (PowerShell's
// Export-Csv, R's write.csv with a UTF-8 BOM), a date column beside the
// time column (a spreadsheet's Date and Time, a date first and an epoch
// timestamp after it), which must not make every row of a day midnight.
func TestWideExportForms(t *testing.T) {
	dir := t.TempDir()
	const (
		t0 = "1500000000000000000"
		t1 = "1500000005250000000"
	)
	f := func(name, head, row0, row1 string) {
		t.Helper()
		path := writeWide(t, dir, name, head+",\"Eth1input-data-rate\"\r\n"+row0+",\"1\"\r\n"+row1+",\"2\"\r\n")
		got, _, err := readWide(t, DefaultMapping(), path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		dev := WideDevice(path, DefaultMapping())
		checkSamples(t, got, []string{
			t0 + " " + dev + " /native/input-data-rate{name=Eth1} gauge=1",
			t1 + " " + dev + " /native/input-data-rate{name=Eth1} gauge=2",
		})
	}
	f("q1.csv", "\ufeff\"time\"", `"1500000000"`, `"1500000005.25"`)
	f("q2.csv.gz", "\ufeff\"Timestamp\"", `"1500000000"`, `"1500000005.25"`)
	f("q3.csv", "Date,Time", "2017-07-14,02:40:00", "2017-07-14,02:40:05.25")
	f("q4.csv", "Time,Date", "02:40:00,2017-07-14", "02:40:05.25,2017-07-14")
	f("q5.csv", "date,timestamp", "2017-07-14,1500000000", "2017-07-14,1500000005.25")
	f("q6.csv", "Date,Time,timestamp", "2017-07-14,x,1500000000", "2017-07-14,y,1500000005.25")
}

// TestWideDelimiters: an export separated by semicolons (with decimal
// commas, as spreadsheets write it where the comma is the decimal mark) or
// by tabs (a .tsv file) reads as the comma-separated one; a state's text
// keeps its comma, and a cell with two commas is no number.
func TestWideDelimiters(t *testing.T) {
	dir := t.TempDir()
	want := []string{
		"1500000000000000000 r1 /native/input-data-rate{name=Eth1} gauge=12.5",
		"1500000000000000000 r1 /native/cpu-load{} gauge=-0.25",
		"1500000000000000000 r1 /native/description{name=Eth1} state=a,b",
		"1500000005000000000 r1 /native/input-data-rate{name=Eth1} gauge=13",
		"1500000005000000000 r1 /native/cpu-load{} gauge=0.5",
		"1500000005000000000 r1 /native/description{name=Eth1} state=c",
	}
	for name, data := range map[string]string{
		"r1.csv":      "time,Eth1input-data-rate,cpu-load,Eth1description\n1500000000,12.5,-0.25,\"a,b\"\n1500000005,13,0.5,c\n",
		"r1.tsv":      "time\tEth1input-data-rate\tcpu-load\tEth1description\n1500000000\t12.5\t-0.25\ta,b\n1500000005\t13\t0.5\tc\n",
		"r1.tsv.gz":   "time\tEth1input-data-rate\tcpu-load\tEth1description\n1500000000\t12.5\t-0.25\ta,b\n1500000005\t13\t0.5\tc\n",
		"r1-semi.csv": "time;Eth1input-data-rate;cpu-load;Eth1description\n1500000000;12,5;-0,25;a,b\n1500000005;13;0,5;c\n",
	} {
		path := writeWide(t, t.TempDir(), name, data)
		m := deviceMapping("r1")
		got, _, err := readWide(t, m, path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		t.Run(name, func(t *testing.T) { checkSamples(t, got, want) })
		if strings.Contains(name, ".tsv") {
			ds, err := LoadDataset(FormatWide, []string{filepath.Dir(path)}, m, "")
			if err != nil || !ds.Devices["r1"] {
				t.Errorf("%s: a folder of it loads %v (%v), want device r1", name, ds, err)
			}
		}
	}
	if _, _, err := readWide(t, DefaultMapping(), writeWide(t, dir, "r2.csv", "time;Eth1input-data-rate\n1500000000;1\n1500000005;1,2,3\n")); err == nil || !strings.Contains(err.Error(), "not a number") {
		t.Errorf("1,2,3 in a gauge column after a number: %v, want not a number", err)
	}
	for _, c := range []struct{ in, out string }{{"12,5", "12.5"}, {"-0,25", "-0.25"}, {"1,2,3", "1,2,3"}, {"1.5", "1.5"}, {"a,b", "a,b"}, {"1,5e3", "1.5e3"}} {
		if got := decimalComma(c.in); got != c.out {
			t.Errorf("decimalComma(%q) = %q, want %q", c.in, got, c.out)
		}
	}
}

// TestWideErrorLine: an error names the line of the file the cell is on,
// also after a quoted cell that spans lines.
func TestWideErrorLine(t *testing.T) {
	path := writeWide(t, t.TempDir(), "r1.csv", "time,Eth1bytes-sent,Eth1description\n"+
		"1500000000,12,\"two\nlines\"\n1500000005,x,one\n")
	_, _, err := readWide(t, DefaultMapping(), path)
	if want := `r1.csv:4: cannot read column 2`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want it to contain %q", err, want)
	}
}

// TestWideSpreadsheetErrors: a spreadsheet's error values (#N/A, #DIV/0!,
// …) are missing values. As the first cell of a column whose kind is a
// guess they must not make it a state column: its numbers would become
// text that no detector reads.
func TestWideSpreadsheetErrors(t *testing.T) {
	path := writeWide(t, t.TempDir(), "r1.csv", "time,Eth1input-data-rate,Eth1bytes-received,Eth1foo\n"+
		"1500000000,#N/A,#N/A,#DIV/0!\n"+
		"1500000005,2.5,10,#VALUE!\n"+
		"1500000010,#div/0!,#REF!,3\n")
	got, src, err := readWide(t, DefaultMapping(), path)
	if err != nil {
		t.Fatal(err)
	}
	checkSamples(t, got, []string{
		"1500000005000000000 r1 /native/input-data-rate{name=Eth1} gauge=2.5",
		"1500000005000000000 r1 " + ifCounters + "in-octets{name=Eth1} counter=10",
		"1500000010000000000 r1 /native/foo{name=Eth1} gauge=3",
	})
	if n := src.(SkipCounter).Skipped(); n != 6 {
		t.Errorf("%d cells skipped, want 6", n)
	}
}

// TestWideDelimiterQuotedHeader: the separator is found among the header's
// fields, not inside a quoted name or a series' labels: a semicolon or tab
// export of Prometheus series (whose labels hold commas) is not read as
// comma-separated.
func TestWideDelimiterQuotedHeader(t *testing.T) {
	want := []string{
		"1500000000000000000 r1 " + schemas.MetricInOctets + "{name=Eth1} counter=12",
		"1500000000000000000 r1 /native/x-rate{} gauge=1.5",
	}
	for name, data := range map[string]string{
		"semi.csv":   "time;\"ifHCInOctets{ifName=\"\"Eth1\"\", instance=\"\"r1\"\"}\";x-rate\n1500000000;12;1,5\n",
		"quoted.tsv": "time\t\"ifHCInOctets{ifName=\"\"Eth1\"\", instance=\"\"r1\"\"}\"\tx-rate\n1500000000\t12\t1.5\n",
	} {
		m := deviceMapping("r1")
		got, _, err := readWide(t, m, writeWide(t, t.TempDir(), name, data))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		t.Run(name, func(t *testing.T) { checkSamples(t, got, want) })
	}
}

// TestWideDecimalCommaTime: in a semicolon-separated export the time
// column's epoch fractions have the decimal comma its values have.
func TestWideDecimalCommaTime(t *testing.T) {
	m := deviceMapping("r1")
	got, _, err := readWide(t, m, writeWide(t, t.TempDir(), "r1.csv", "time;x-rate\n1500000000,5;12,5\n1500000001,25;13\n"))
	if err != nil {
		t.Fatal(err)
	}
	checkSamples(t, got, []string{
		"1500000000500000000 r1 /native/x-rate{} gauge=12.5",
		"1500000001250000000 r1 /native/x-rate{} gauge=13",
	})
}

// TestWideTSVBareQuotes: a tab-separated export need not quote a name
// that holds quotes (TSV has no quoting): a Prometheus series' name is
// read as written.
func TestWideTSVBareQuotes(t *testing.T) {
	m := deviceMapping("r1")
	got, _, err := readWide(t, m, writeWide(t, t.TempDir(), "r1.tsv", "time\tifHCInOctets{ifName=\"Eth1\", job=\"snmp\"}\tifOperStatus{ifName=\"Eth1\"}\n1500000000\t12\t2\n"))
	if err != nil {
		t.Fatal(err)
	}
	checkSamples(t, got, []string{
		"1500000000000000000 r1 " + schemas.MetricInOctets + "{name=Eth1} counter=12",
		"1500000000000000000 r1 " + schemas.MetricOperStatus + "{name=Eth1} state=2",
	})
}

// TestWideExcelSepLine: an export for Excel (Grafana's "Download for
// Excel") starts with a sep=X line naming the separator: it is the
// separator, and lines are still counted from the top of the file.
func TestWideExcelSepLine(t *testing.T) {
	m := deviceMapping("r1")
	data := "sep=;\n\"Time\";\"ifHCInOctets{ifName=\"\"Eth1\"\", job=\"\"snmp\"\"}\"\n2017-07-14 02:40:00;12\n2017-07-14 02:40:05;13\n"
	got, _, err := readWide(t, m, writeWide(t, t.TempDir(), "r1.csv", data))
	if err != nil {
		t.Fatal(err)
	}
	checkSamples(t, got, []string{
		"1500000000000000000 r1 " + schemas.MetricInOctets + "{name=Eth1} counter=12",
		"1500000005000000000 r1 " + schemas.MetricInOctets + "{name=Eth1} counter=13",
	})
	_, _, err = readWide(t, m, writeWide(t, t.TempDir(), "r1.csv", "sep=,\ntime,Eth1bytes-sent\n1500000000,1\n1500000005,x\n"))
	if err == nil || !strings.Contains(err.Error(), "r1.csv:4:") {
		t.Errorf("a bad cell on line 4: %v, want r1.csv:4:", err)
	}
}

// deviceMapping is DefaultMapping with every file's device dev.
func deviceMapping(dev string) *Mapping {
	m := DefaultMapping()
	m.Device = dev
	return m
}

// TestWidePrometheusInstances reads a Grafana export of one metric on two
// SNMP targets (columns ifHCInOctets{ifName="Ethernet1", instance="r1:161"}
// and the same with instance="r2:161") and a column without an instance:
// each instance is a device of its own (r1, r2; the port dropped) and
// the other column the file's (grafana), each row one batch per device,
// and r2's traffic stopping for 20 rows is detected on r2. Before, both
// instances' columns were one series of the file's device and the
// second was not read: r2's outage was never replayed. A file of one
// instance keeps its name's device, and --device (Mapping.Device) names
// the device of every file and column.
func TestWidePrometheusInstances(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(`time,"ifHCInOctets{ifName=""Ethernet1"", instance=""r1:161"", job=""snmp""}",` +
		`"ifHCInOctets{ifName=""Ethernet1"", instance=""r2:161"", job=""snmp""}",cpu-load` + "\n")
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var r1, r2 uint64
	for i := range 400 {
		r1 += 1_000_000 + uint64(i%7)*1000
		if i < 300 || i >= 320 {
			r2 += 2_000_000 + uint64(i%5)*1000
		}
		fmt.Fprintf(&b, "%d,%d,%d,%d\n", t0.Add(time.Duration(i)*10*time.Second).Unix(), r1, r2, 10+i%3)
	}
	path := writeWide(t, dir, "grafana.csv", b.String())
	if devs, err := WideDevices(path, DefaultMapping()); err != nil || !slices.Equal(devs, []string{"grafana", "r1", "r2"}) {
		t.Fatalf("devices %v (%v), want grafana, r1 and r2", devs, err)
	}
	src, err := OpenWide([]string{path}, DefaultMapping())
	if err != nil {
		t.Fatal(err)
	}
	first, err := src.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || first[0].Device != "grafana" {
		t.Errorf("first batch %+v, want the file's own column alone", first)
	}
	for _, dev := range []string{"r1", "r2"} {
		batch, err := src.Next(t.Context())
		if err != nil || len(batch) != 1 || batch[0].Device != dev || batch[0].Keys != "name=Ethernet1" {
			t.Errorf("next batch %+v (%v), want %s's counter alone", batch, err, dev)
		}
	}
	src.Close()
	ds, err := LoadDataset(FormatWide, []string{path}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if !ds.Devices["r1"] || !ds.Devices["r2"] || !ds.Devices["grafana"] || len(ds.Devices) != 3 {
		t.Errorf("dataset devices %v, want grafana, r1 and r2", ds.Devices)
	}
	outage := []Event{{Device: "r2", Keys: "name=Ethernet1", Kind: "link_down", Start: t0.Add(300 * 10 * time.Second), End: t0.Add(320 * 10 * time.Second)}}
	res, err := Evaluate(t.Context(), "default", detect.Config{}, ds, outage, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Points != 3*400 || res.Report.Detected != 1 || res.Report.FalseAny != 0 {
		t.Errorf("%d points, %d of 1 events detected, %d false incidents; want 1 200, the outage, none", res.Stats.Points, res.Report.Detected, res.Report.FalseAny)
	}

	named := DefaultMapping()
	named.Device = "lab"
	if devs, err := WideDevices(path, named); err != nil || !slices.Equal(devs, []string{"lab"}) {
		t.Errorf("devices with the device of every file named %v (%v), want lab alone", devs, err)
	}

	one := writeWide(t, dir, "edge7.csv", "time,\"ifHCInOctets{ifName=\"\"Ethernet1\"\", instance=\"\"r1:161\"\"}\"\n1500000000,12\n")
	if devs, err := WideDevices(one, DefaultMapping()); err != nil || !slices.Equal(devs, []string{"edge7"}) {
		t.Errorf("devices of a one-instance file %v (%v), want its name's, edge7", devs, err)
	}
}
