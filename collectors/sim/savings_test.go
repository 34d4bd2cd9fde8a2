package sim

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// TestSavingLabels checks that the savings' ground truth names exactly the
// ports the fleet serves as admin-up with oper-status down (on a cabled
// leaf/spine fabric, as the showcase), that a configuration change of a
// port's admin state ends its row, and that there is none without power
// mode.
func TestSavingLabels(t *testing.T) {
	cfg := Config{Devices: 10, Interfaces: 8, Start: t0, Power: true, Transceivers: true, Topology: Topology{Spines: 2}, Faults: []Fault{}}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	admin, oper := map[string]string{}, map[string]string{}
	f.Next(func(s *schemas.Sample) {
		switch s.Metric {
		case schemas.MetricAdminStatus:
			admin[s.Device+" "+s.Keys] = s.Str
		case schemas.MetricOperStatus:
			oper[s.Device+" "+s.Keys] = s.Str
		}
	})
	want := map[string]bool{}
	for port, a := range admin {
		if a == "UP" && oper[port] == "DOWN" {
			want[port] = true
		}
	}
	until := t0.Add(24 * time.Hour)
	labels := f.SavingLabels(until)
	if len(labels) == 0 || len(labels) != len(want) {
		t.Fatalf("%d saving labels, the fleet serves %d ports admin-up without a link: %v", len(labels), len(want), want)
	}
	for _, l := range labels {
		if !want[l.Device+" "+l.Keys] || l.Kind != schemas.SavingAdminUpOperDown || l.Metric != schemas.MetricOperStatus || !l.Start.Equal(t0) || !l.End.Equal(until) {
			t.Errorf("label %+v is not a port admin-up without a link from the start", l)
		}
	}

	// Turning the first such port down an hour in ends its row then.
	first := labels[0]
	cfg.Changes = []Change{{Device: first.Device, Interface: first.Keys[len("name="):], After: time.Hour, Admin: "down"}}
	if f, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	changed := f.SavingLabels(until)
	if len(changed) != len(labels) || !changed[0].End.Equal(t0.Add(time.Hour)) || !changed[1].End.Equal(until) {
		t.Errorf("after an admin-down change at 1h: %+v", changed[:2])
	}
	if l := mustNew(t, Config{Devices: 2, Start: t0}).SavingLabels(until); l != nil {
		t.Errorf("saving labels without power mode: %+v", l)
	}
}

func mustNew(t *testing.T, cfg Config) *Fleet {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
