package power

import (
	"errors"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/detectors/internal/enc"
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
