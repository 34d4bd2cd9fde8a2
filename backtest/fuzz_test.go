package backtest

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// FuzzReadLabels feeds arbitrary bytes to the labels reader, seeded with a
// bigdama18-style CSV and the simulator's JSON lines: it never panics, a
// file it refuses gets one line naming the file, and every event it
// accepts names a device and ends no earlier than it starts.
func FuzzReadLabels(f *testing.F) {
	f.Add([]byte("Node,Host,Start,End,Event,Type\nleaf1,10.0.0.1,1504286090,1504286390,portflap,port\n"))
	f.Add([]byte("device,interface,start,end,kind\nsim-01,Ethernet1,2026-11-01T00:45:00Z,2026-11-01T00:55:00Z,link_down\n"))
	f.Add([]byte("device,start,end\nr1,1504286090000,2017-09-01 17:19:50.5+02:00\n"))
	f.Add([]byte(`{"device":"r1","start":1504286090000000,"end":"2017-09-01 17:19:50"}` + "\n"))
	f.Add([]byte(`{"device":"sim-01","metric":"/interfaces/interface/state/counters/in-octets","keys":"name=Ethernet1","kind":"traffic_spike","start":"2026-11-23T10:45:00Z","end":"2026-11-23T10:55:00Z"}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		const path = "labels.csv"
		evs, err := parseLabels(path, b)
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, path) {
				t.Fatalf("not one line naming the file: %q", msg)
			}
			return
		}
		for _, e := range evs {
			if e.Device == "" || e.End.Before(e.Start) {
				t.Fatalf("accepted %+v", e)
			}
		}
	})
}

// FuzzWideSource feeds arbitrary bytes to the wide CSV importer, seeded
// with state columns, missing-value tokens and each form of the time
// column: it never panics, a file it refuses gets one line naming the
// file, every sample it reads has a value of its kind, and each series
// keeps one kind.
func FuzzWideSource(f *testing.F) {
	f.Add([]byte(",time,Eth1bytes-received,Eth1input-data-rate,Eth1oper-status\n0,1500000000.0,100.0,5,UP\n1,1500000005.5,nan,,DOWN\n"))
	f.Add([]byte("timestamp,Gi0/0/0/1state,peer__session-state,x__y-drops\n1500000000000,im-state-up,NA,0.5\n1500000005000,im-state-down,bgp-st-estab,-\n"))
	f.Add([]byte("Date,Eth1bytes-sent\n2017-07-14 02:40:00,12\n2017-07-14T02:40:05.25+00:00,-3\n"))
	f.Add([]byte("\ufeffUnnamed: 0,ts,a\n0,1500000000000000000,inf\n1,1500000005000000000,None\n"))
	f.Add([]byte("\ufeff\"Date\",\"Time\",\"Eth1bytes-sent\"\r\n\"2017-07-14\",\"02:40:00\",\"#N/A\"\r\n2017-07-14,02:40:05.25,\"1\n2\"\r\n"))
	f.Add([]byte("sep=;\n\"Time (UTC)\";\"ifHCInOctets{ifName=\"\"Eth1\"\", job=\"\"snmp\"\"}\";x-rate\n1500000000,5;12;1,5\n"))
	f.Add([]byte("_time\t/interfaces/interface[name=Eth\\]1]/state/oper-status\tifOperStatus{ifName=\"E\\\"1\"}\n1500000000\tUP\t2\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "r1.csv")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := OpenWide([]string{path}, DefaultMapping())
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		kinds := map[schemas.SeriesKey]schemas.Kind{}
		for {
			batch, err := src.Next(t.Context())
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, path) {
					t.Fatalf("not one line naming the file: %q", msg)
				}
				return
			}
			for _, s := range batch {
				if k, ok := kinds[s.Series()]; ok && k != s.Kind {
					t.Fatalf("series %v changed kind", s.Series())
				}
				kinds[s.Series()] = s.Kind
				if s.Kind == schemas.KindGauge && (math.IsNaN(s.F64) || math.IsInf(s.F64, 0)) || s.Kind == schemas.KindState && s.Str == "" || s.TS < 0 {
					t.Fatalf("read %+v", s)
				}
			}
		}
	})
}
