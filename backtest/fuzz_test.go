package backtest

import (
	"strings"
	"testing"
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
