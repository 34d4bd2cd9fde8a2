package incidents

import (
	"fmt"
	"reflect"
	"testing"
)

// TestSmallIncidentMemo: an incident shorter than longFrom (a leaf's
// link down to spine1, its session and traffic moved to another uplink,
// as in BenchmarkSmallIncidents) holds in its memo only the maps every
// check reads (own, near, alerts); its ports and link states are read by
// a pass over its few members.
// Before, every such incident built four more maps (its ports, their
// peers, its link states by device and facing a device): 5564 bytes held
// per incident, against 3707 before they came (d48a181).
func TestSmallIncidentMemo(t *testing.T) {
	const n = 20
	e, _ := New(Config{}, bigFabric(4, n))
	for l := 1; l <= n; l++ {
		leaf, at := fmt.Sprintf("leaf%d", l), 120*l
		e.Add(ptr(fire(at, leaf, mOper, "name=e1", "link_down", 0, 1)))
		e.Add(ptr(fire(at, leaf, mBGP, bgp(fmt.Sprintf("10.1.%d.0", l)), "session_down", 0, 1)))
		e.Add(ptr(fire(at+1, leaf, mIn, "name=e2", "ewma", 2e9, 1e9)))
	}
	if len(e.incs) != n {
		t.Fatalf("%d incidents, want %d", len(e.incs), n)
	}
	for _, in := range e.incs {
		if len(in.Members) != 3 || !in.Members[2].Effect {
			t.Fatalf("incident %s: %d members, want 3 (the traffic an effect)", in.ID, len(in.Members))
		}
		var maps []string
		v := reflect.ValueOf(in.memo)
		for i := range v.NumField() {
			if f := v.Field(i); f.Kind() == reflect.Map && !f.IsNil() {
				maps = append(maps, v.Type().Field(i).Name)
			}
		}
		if len(maps) > 3 {
			t.Fatalf("incident %s of %d members: its memo holds %d maps %v, want own, near and alerts only", in.ID, len(in.Members), len(maps), maps)
		}
	}
}
