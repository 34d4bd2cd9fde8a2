package power

import (
	"math"
	"testing"
	"time"

	"github.com/telekernel/telekernel/detectors/internal/enc"
	"github.com/telekernel/telekernel/schemas"
)

// TestDeviceStateV2StillLoads: a version 2 record (before the time each
// PSU reading was received and each oper-status's time) restores the
// device's live state, each reading taken as received when it was
// stamped, and a reading re-sent with that stamp is measured again.
// Before, bumping the version alone would have refused such a record
// (ErrIncompatibleState) and started the device cold.
func TestDeviceStateV2StillLoads(t *testing.T) {
	at := func(min int) int64 { return t0.Add(time.Duration(min) * time.Minute).UnixNano() }
	v2 := enc.AppendHeader(nil, tagDevice, 2)
	v2 = enc.AppendString(v2, "") // model: default
	v2 = enc.AppendU(v2, 1)       // one port
	for _, s := range []string{"name=Ethernet1", "SPEED_100GB", ""} {
		v2 = enc.AppendString(v2, s)
	}
	v2 = enc.AppendU(v2, 1|2|4) // admin up, has admin, oper up
	v2 = enc.AppendF64s(v2, nil)
	v2 = enc.AppendBool(v2, false)
	v2 = enc.AppendI(v2, 0)
	for _, v := range []int64{at(10), at(10), 0, 0} { // cur, last, win, winEnd
		v2 = enc.AppendI(v2, v)
	}
	for range 6 { // window sums
		v2 = enc.AppendF64(v2, 0)
	}
	v2 = enc.AppendU(v2, 0)
	v2 = enc.AppendU(v2, 0)
	for range 2 { // the port's in and out counters
		v2 = enc.AppendI(v2, 0)
		v2 = enc.AppendU(v2, 0)
		v2 = enc.AppendU(v2, 0)
	}
	for range 4 { // rates and window sums
		v2 = enc.AppendF64(v2, 0)
	}
	v2 = enc.AppendU(v2, 0)
	v2 = enc.AppendU(v2, 1) // one PSU
	v2 = enc.AppendString(v2, "name=PSU1")
	for _, v := range []float64{0, 0, 115} {
		v2 = enc.AppendF64(v2, v)
	}
	for _, v := range []int64{0, 0, at(10)} {
		v2 = enc.AppendI(v2, v)
	}

	e, _ := New(Config{Window: time.Hour})
	if err := e.RestoreDeviceState("d", v2); err != nil {
		t.Fatal(err)
	}
	d := e.devices["d"]
	if p := d.psus[0]; p.p != 115 || p.pTS != at(10) || p.pSeen != at(10) || d.ports[0].operTS != 0 || !d.ports[0].operUp {
		t.Fatalf("restored PSU %+v, port %+v", *p, *d.ports[0])
	}
	e.Observe(at(11), "d", schemas.MetricOperStatus, "name=Ethernet1", schemas.KindState, 0, 0, "UP")
	e.Observe(at(10), "d", schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, 115, "")
	e.Flush(at(120))
	var measured []float64
	for _, r := range e.Take().Rows {
		if r.Row == schemas.PowerRowDevice {
			measured = append(measured, r.MeasuredW)
		}
	}
	if len(measured) != 1 || math.Abs(measured[0]-115) > 1e-9 {
		t.Errorf("measured per window %v, want [115]", measured)
	}
}
