package maintenance

import (
	"bytes"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestRestoreDeviceStateReplaces: a device's readings restored from two
// records of its key (a changelog not compacted yet), the later written
// after one of its covariate readings expired, are the later record's:
// the tracker writes the same record again and Latest is its. Before,
// the records were merged: the expired reading came back.
func TestRestoreDeviceStateReplaces(t *testing.T) {
	cfg := Config{Stale: 30 * time.Minute}
	tr, _ := New(cfg)
	const dev = "edge-1"
	ts := t0.UnixNano()
	tr.Observe(ts, dev, schemas.MetricTemperature, "name=Ethernet1-transceiver", 40)
	tr.Observe(ts+int64(time.Hour), dev, schemas.MetricTemperature, "name=Ethernet2-transceiver", 41)
	first, _ := tr.AppendDeviceState(nil, dev)
	tr.Observe(ts+int64(6*time.Hour), dev, schemas.MetricTemperature, "name=Ethernet2-transceiver", 42)
	tr.Expire(ts + int64(5*time.Hour+30*time.Minute)) // Ethernet1's reading goes (10 × stale)
	later, ok := tr.AppendDeviceState(nil, dev)
	if !ok || bytes.Equal(first, later) {
		t.Fatal("no later record")
	}
	back, _ := New(cfg)
	for _, b := range [][]byte{first, later} {
		if err := back.RestoreDeviceState(dev, b); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := back.AppendDeviceState(nil, dev); !bytes.Equal(got, later) {
		t.Errorf("restored from both records, the device's record is\n%x\nwant the later one\n%x", got, later)
	}
	if got, want := back.Latest(dev), tr.Latest(dev); got != want {
		t.Errorf("restored Latest = %d, want %d", got, want)
	}
}
