package power

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/detectors/internal/enc"
	"github.com/telekernel/telekernel/schemas"
)

// TestDeviceStateV3StillLoads: a version 3 record (before the times of a
// port's admin-status, port-speed, aggregate-id and transceiver presence,
// and of the chassis part-no) restores them, each of no time, so the next
// sample replaces it; written again, the record is of version 4 and keeps
// those times, so a late sample then changes nothing. Before, bumping the
// version alone would have refused such a record (ErrIncompatibleState)
// and started the device cold.
func TestDeviceStateV3StillLoads(t *testing.T) {
	at := func(min int) int64 { return t0.Add(time.Duration(min) * time.Minute).UnixNano() }
	v3 := enc.AppendHeader(nil, tagDevice, 3)
	v3 = enc.AppendString(v3, "DCS-7050CX3")
	v3 = enc.AppendU(v3, 1) // one port
	for _, s := range []string{"name=Ethernet1", "SPEED_100GB", "Port-Channel1"} {
		v3 = enc.AppendString(v3, s)
	}
	v3 = enc.AppendU(v3, 1|2|4|8|16) // admin up, has admin, oper up, optic, has optic
	v3 = enc.AppendF64s(v3, nil)
	v3 = enc.AppendBool(v3, false)
	v3 = enc.AppendI(v3, 0)
	for _, v := range []int64{at(10), at(10), 0, 0} { // cur, last, win, winEnd
		v3 = enc.AppendI(v3, v)
	}
	for range 6 { // window sums
		v3 = enc.AppendF64(v3, 0)
	}
	v3 = enc.AppendU(v3, 0)
	v3 = enc.AppendU(v3, 0)
	for range 2 { // the port's in and out counters
		v3 = enc.AppendI(v3, 0)
		v3 = enc.AppendU(v3, 0)
		v3 = enc.AppendU(v3, 0)
	}
	for range 4 { // rates and window sums
		v3 = enc.AppendF64(v3, 0)
	}
	v3 = enc.AppendU(v3, 0)
	v3 = enc.AppendI(v3, at(10)) // oper-status time
	v3 = enc.AppendU(v3, 1)      // one PSU
	v3 = enc.AppendString(v3, "name=PSU1")
	for _, v := range []float64{0, 0, 115} {
		v3 = enc.AppendF64(v3, v)
	}
	for _, v := range []int64{0, 0, at(10), 0, 0, at(10)} { // stamps, then when received
		v3 = enc.AppendI(v3, v)
	}

	e, _ := New(Config{Window: time.Hour})
	if err := e.RestoreDeviceState("d", v3); err != nil {
		t.Fatal(err)
	}
	d := e.devices["d"]
	p := d.ports[0]
	if p.speed != "SPEED_100GB" || p.lag != "Port-Channel1" || !p.adminUp || !p.hasAdmin || !p.operUp || !p.optic || !p.hasOptic ||
		p.operTS != at(10) || p.adminTS != 0 || p.speedTS != 0 || p.lagTS != 0 || p.opticTS != 0 ||
		d.model.name != "DCS-7050CX3" || d.partTS != 0 || d.psus[0].p != 115 || d.psus[0].pSeen != at(10) {
		t.Fatalf("restored port %+v, model %s of time %d, PSU %+v", *p, d.model.name, d.partTS, *d.psus[0])
	}
	// Of no time, the restored values give way to the next samples.
	obs := func(e *Estimator, min int, metric, keys, v string) {
		e.Observe(at(min), "d", metric, keys, schemas.KindState, 0, 0, v)
	}
	next := func(e *Estimator, min int) {
		obs(e, min, schemas.MetricAdminStatus, "name=Ethernet1", "DOWN")
		obs(e, min, schemas.MetricPortSpeed, "name=Ethernet1", "SPEED_400GB")
		obs(e, min, schemas.MetricAggregateID, "name=Ethernet1", "")
		obs(e, min, schemas.MetricOpticPresent, "name=Ethernet1-transceiver", "NOT_PRESENT")
		obs(e, min, schemas.MetricPartNo, "name=Chassis", "DCS-7060CX")
	}
	next(e, 11)
	check := func(what string, e *Estimator) {
		t.Helper()
		d := e.devices["d"]
		p := d.ports[0]
		if p.adminUp || p.speed != "SPEED_400GB" || p.lag != "" || p.optic || d.model.name != "DCS-7060CX" {
			t.Errorf("%s: port %+v, model %s; want the samples of minute 11", what, *p, d.model.name)
		}
	}
	check("restored from version 3, then the samples of minute 11", e)
	// Written again, it is of the current version (4 or later) and holds
	// those samples' times.
	v4, _ := e.AppendDeviceState(nil, "d")
	if v4[1] != deviceVersion {
		t.Fatalf("written as version %d, want %d", v4[1], deviceVersion)
	}
	f, _ := New(Config{Window: time.Hour})
	if err := f.RestoreDeviceState("d", v4); err != nil {
		t.Fatal(err)
	}
	obs(f, 10, schemas.MetricAdminStatus, "name=Ethernet1", "UP")
	obs(f, 10, schemas.MetricPortSpeed, "name=Ethernet1", "SPEED_100GB")
	obs(f, 10, schemas.MetricAggregateID, "name=Ethernet1", "Port-Channel1")
	obs(f, 10, schemas.MetricOpticPresent, "name=Ethernet1-transceiver", "PRESENT")
	obs(f, 10, schemas.MetricPartNo, "name=Chassis", "DCS-7050CX3")
	check("restored from version 4, then late samples of minute 10", f)
}
