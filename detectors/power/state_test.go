package power

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/internal/enc"
	"github.com/telekernel/telekernel/schemas"
)

func TestModelStateRoundTrip(t *testing.T) {
	f, _ := sim.New(sim.Config{Devices: 6, Interfaces: 4, Start: t0, Interval: 5 * time.Minute, Power: true, Faults: []sim.Fault{}})
	e, _ := New(Config{})
	feed(t, f, e, 100)
	m := e.Model("TK-SIM-8")
	b := m.AppendState(nil)
	m2 := mustModel(t, ModelConfig{Name: "TK-SIM-8", Priors: e.Config().Priors, Memory: e.Config().Memory, SolveEvery: e.Config().SolveEvery})
	if err := m2.RestoreState(b); err != nil {
		t.Fatal(err)
	}
	if string(m2.AppendState(nil)) != string(b) {
		t.Fatal("restored state differs")
	}
	x := make([]float64, m.Len())
	m.Base(x)
	m.Port(x, "SPEED_100GB", true, 0.3, true)
	if m.Predict(x) != m2.Predict(x) {
		t.Fatalf("predictions differ: %v vs %v", m.Predict(x), m2.Predict(x))
	}
	b[1] = 9
	if err := m2.RestoreState(b); !errors.Is(err, enc.ErrVersion) {
		t.Fatalf("version 9: %v", err)
	}
	other := mustModel(t, ModelConfig{Name: "y", Priors: Priors{Port: map[string]float64{"SPEED_1GB": 1}}, Memory: 100, SolveEvery: 10})
	b[1] = modelVersion
	if err := other.RestoreState(b); err == nil {
		t.Fatal("a state with other speeds was restored")
	}
	if err := m2.RestoreState(b[:len(b)-3]); err == nil {
		t.Fatal("a truncated state was restored")
	}
}

// TestDeviceStateRestore: after a restore, a device whose port state
// arrives only on change (not again) is still modelled port by port.
func TestDeviceStateRestore(t *testing.T) {
	f, _ := sim.New(sim.Config{Devices: 6, Interfaces: 8, Start: t0, Interval: 5 * time.Minute, Power: true, Faults: []sim.Fault{}})
	a, _ := New(Config{Window: time.Hour})
	feed(t, f, a, 12*12)
	b, _ := New(Config{Window: time.Hour})
	n := 0
	a.TakeDirty(func(dev string) {
		st, ok := a.AppendDeviceState(nil, dev)
		if !ok {
			t.Fatal("no state")
		}
		if err := b.RestoreDeviceState(dev, st); err != nil {
			t.Fatal(err)
		}
		again, _ := b.AppendDeviceState(nil, dev)
		if string(again) != string(st) {
			t.Fatal("restored state differs")
		}
		n++
	})
	if n != 6 {
		t.Fatalf("%d dirty devices, want 6", n)
	}
	for _, name := range a.Models() {
		if err := b.Model(name).RestoreState(a.Model(name).AppendState(nil)); err != nil {
			t.Fatal(err)
		}
	}
	cold, _ := New(Config{Window: time.Hour})
	onChange := func(s *schemas.Sample) bool {
		switch s.Metric {
		case schemas.MetricAdminStatus, schemas.MetricPortSpeed, schemas.MetricAggregateID, schemas.MetricOpticPresent, schemas.MetricPartNo:
			return true
		}
		return false
	}
	var rb, rc []schemas.PowerRow
	for range 4 * 12 {
		f.Next(func(s *schemas.Sample) {
			if onChange(s) {
				return // sent on change only: not again
			}
			b.Observe(s.TS, s.Device, s.Metric, s.Keys, s.Kind, s.U64, s.F64, s.Str)
			cold.Observe(s.TS, s.Device, s.Metric, s.Keys, s.Kind, s.U64, s.F64, s.Str)
		})
		rb, rc = append(rb, b.Take().Rows...), append(rc, cold.Take().Rows...)
	}
	got, _ := mape(rb, t0.Add(13*time.Hour).UnixNano())
	coldMAPE, _ := mape(rc, t0.Add(13*time.Hour).UnixNano())
	t.Logf("after the restore: MAPE %.2f %% restored, %.2f %% cold", got, coldMAPE)
	if got > 1 {
		t.Errorf("restored estimator: MAPE %.2f %%", got)
	}
	if coldMAPE < 5 { // the README's contrast: a cold estimator is far off
		t.Errorf("cold estimator: MAPE %.2f %%, the README says above 5 %%", coldMAPE)
	}
	if err := b.RestoreDeviceState("x", []byte{tagDevice, 9}); !errors.Is(err, ErrIncompatibleState) {
		t.Errorf("version 9: %v", err)
	}
}

// TestHandoffContinuesExactly: an estimator restored from another's device
// and model states in the middle of a window, and in the middle of a tick,
// produces exactly the rows and residuals the uninterrupted one does: the
// counter baselines, PSU readings and the open window are part of the
// state.
func TestHandoffContinuesExactly(t *testing.T) {
	faults := []sim.Fault{{Device: "sim-03", Component: "PSU1", Kind: sim.FaultPSUDegradation, After: 44 * time.Hour, Duration: 4 * time.Hour}}
	f, err := sim.New(sim.Config{Devices: 6, Interfaces: 6, Start: t0, Interval: 5 * time.Minute, Power: true, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	var samples []schemas.Sample
	for range 12 * 72 {
		f.Next(func(s *schemas.Sample) { samples = append(samples, *s) })
	}
	cfg := Config{Window: time.Hour}
	whole, _ := New(cfg)
	first, _ := New(cfg)
	cut := len(samples)*53/100 + 7 // neither a tick nor a window boundary
	observe := func(e *Estimator, s schemas.Sample) {
		e.Observe(s.TS, s.Device, s.Metric, s.Keys, s.Kind, s.U64, s.F64, s.Str)
	}
	for _, s := range samples[:cut] {
		observe(whole, s)
		observe(first, s)
	}
	_, _ = whole.Take(), first.Take()
	second, _ := New(cfg)
	first.TakeDirty(func(dev string) {
		st, _ := first.AppendDeviceState(nil, dev)
		if err := second.RestoreDeviceState(dev, st); err != nil {
			t.Fatal(err)
		}
	})
	for _, name := range first.Models() {
		if err := second.Model(name).RestoreState(first.Model(name).AppendState(nil)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range samples[cut:] {
		observe(whole, s)
		observe(second, s)
	}
	want, got := whole.Take(), second.Take()
	if len(want.Rows) == 0 || len(want.Residuals) == 0 {
		t.Fatalf("the uninterrupted estimator produced %d rows and %d residuals after the cut; the test needs both", len(want.Rows), len(want.Residuals))
	}
	if w, g := fmt.Sprint(want.Rows), fmt.Sprint(got.Rows); w != g {
		t.Errorf("rows after the handoff differ (%d restored, %d uninterrupted)", len(got.Rows), len(want.Rows))
	}
	if w, g := fmt.Sprint(want.Residuals), fmt.Sprint(got.Residuals); w != g {
		t.Errorf("residuals after the handoff differ:\n restored %s\n   whole %s", g, w)
	}
}

// TestDeviceStateV1StillLoads: a version 1 record (before the live state)
// restores the device's ports and history.
func TestDeviceStateV1StillLoads(t *testing.T) {
	e, _ := New(Config{})
	v1 := enc.AppendHeader(nil, tagDevice, 1)
	v1 = enc.AppendU(v1, 0) // model: default
	v1 = enc.AppendU(v1, 1) // one port
	for _, s := range []string{"name=Ethernet1", "SPEED_100GB", ""} {
		v1 = enc.AppendU(v1, uint64(len(s)))
		v1 = append(v1, s...)
	}
	v1 = enc.AppendU(v1, 1|4)
	v1 = enc.AppendF64s(v1, []float64{0.01, 0.02})
	v1 = enc.AppendBool(v1, false)
	v1 = enc.AppendI(v1, 0)
	if err := e.RestoreDeviceState("d1", v1); err != nil {
		t.Fatal(err)
	}
	d := e.devices["d1"]
	if len(d.ports) != 1 || d.ports[0].speed != "SPEED_100GB" || !d.ports[0].operUp || len(d.history) != 2 || d.winEnd != 0 {
		t.Errorf("restored %+v", d)
	}
}

// mustModel returns NewModel(c), failing tb on an error.
func mustModel(tb testing.TB, c ModelConfig) *Model {
	tb.Helper()
	m, err := NewModel(c)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestNewModelRejectsBadConfig: NewModel validates its ModelConfig and
// names the field.
func TestNewModelRejectsBadConfig(t *testing.T) {
	if _, err := NewModel(ModelConfig{Name: "x", Memory: 5}); err == nil || err.Error() != `power model "x": memory: 5 is below 10` {
		t.Errorf("NewModel(memory 5) = %v, want the memory error", err)
	}
}

// TestForgetComponents: the ports and PSUs whose latest sample is before
// the cutoff go (a port by its counters, a PSU by its readings); a port
// known only from its status and a PSU without a valid reading stay, as
// do the fresh ones; the device is reported dirty once; Silent lists the
// devices before the cutoff in name order, not one never timed.
func TestForgetComponents(t *testing.T) {
	e, _ := New(Config{})
	h := int64(time.Hour)
	obs := func(ts int64, dev, metric, keys string, kind schemas.Kind, u uint64, f float64, s string) {
		e.Observe(ts, dev, metric, keys, kind, u, f, s)
	}
	for _, dev := range []string{"r2", "r1"} {
		obs(h, dev, schemas.MetricOperStatus, "name=E1", schemas.KindState, 0, 0, "UP")
		obs(h, dev, schemas.MetricInOctets, "name=E2", schemas.KindCounter, 10, 0, "")
		obs(h, dev, schemas.MetricInOctets, "name=E3", schemas.KindCounter, 10, 0, "")
		obs(h, dev, schemas.MetricPSUInPower, "name=PSU1", schemas.KindGauge, 0, 100, "")
		obs(h, dev, schemas.MetricPSUInPower, "name=PSU2", schemas.KindGauge, 0, math.NaN(), "")
		obs(h, dev, schemas.MetricPSUInPower, "name=PSU3", schemas.KindGauge, 0, 100, "")
	}
	obs(3*h, "r1", schemas.MetricInOctets, "name=E3", schemas.KindCounter, 20, 0, "")
	obs(3*h, "r1", schemas.MetricPSUInPower, "name=PSU3", schemas.KindGauge, 0, 100, "")
	e.TakeDirty(func(string) {})
	if got := e.Silent(nil, 2*h); !slices.Equal(got, []string{"r2"}) {
		t.Errorf("Silent before 2h: %v, want [r2]", got)
	}
	if got := e.Silent([]string{"x"}, 4*h); !slices.Equal(got, []string{"x", "r1", "r2"}) {
		t.Errorf("Silent before 4h after x: %v, want [x r1 r2]", got)
	}
	e.Forget("r2")
	ports, psus := e.ForgetComponents(2 * h)
	if ports != 1 || psus != 1 {
		t.Errorf("forgot %d ports and %d PSUs, want 1 and 1", ports, psus)
	}
	st, _ := e.AppendDeviceState(nil, "r1")
	for keys, want := range map[string]bool{"name=E1": true, "name=E2": false, "name=E3": true, "name=PSU1": false, "name=PSU2": true, "name=PSU3": true} {
		if got := strings.Contains(string(st), keys); got != want {
			t.Errorf("%s held: %v, want %v", keys, got, want)
		}
	}
	var dirty []string
	e.TakeDirty(func(dev string) { dirty = append(dirty, dev) })
	if !slices.Equal(dirty, []string{"r1"}) {
		t.Errorf("dirty %v, want [r1]", dirty)
	}
	if ports, psus := e.ForgetComponents(2 * h); ports != 0 || psus != 0 {
		t.Errorf("a second sweep forgot %d ports and %d PSUs", ports, psus)
	}
}
