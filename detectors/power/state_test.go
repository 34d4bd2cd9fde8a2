package power

import (
	"errors"
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
	m2 := NewModel("TK-SIM-8", e.Config().Priors, e.Config().Memory, e.Config().SolveEvery)
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
	other := NewModel("y", Priors{Port: map[string]float64{"SPEED_1GB": 1}}, 100, 10)
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
		case sim.MetricAdminStatus, sim.MetricPortSpeed, sim.MetricAggregateID, sim.MetricOpticPresent, sim.MetricPartNo:
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
	if err := b.RestoreDeviceState("x", []byte{tagDevice, 9}); !errors.Is(err, ErrIncompatibleState) {
		t.Errorf("version 9: %v", err)
	}
}
