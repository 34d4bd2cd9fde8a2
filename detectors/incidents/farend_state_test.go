package incidents

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestFarEndRestore: an engine restored at any point of a far-end
// scenario (whole state, MarshalBinary/UnmarshalBinary,
// and from its Changes records) publishes, for the rest of the
// detections, exactly what the engine that ran through does: the rules
// read only members and the inventory, nothing the state leaves out.
// A guard: it held when the far-end join and merge came.
func TestFarEndRestore(t *testing.T) {
	inv := bigFabric(3, 6)
	var scenarios [][]schemas.Detection
	for seed := range uint64(60) {
		if dets := farEndScenario(rand.New(rand.NewPCG(seed, 41))); len(dets) > 1 {
			scenarios = append(scenarios, dets)
		}
	}
	checked := 0
	for si, dets := range scenarios {
		whole, _ := New(Config{}, inv)
		var want [][]*schemas.Incident
		for i := range dets {
			want = append(want, whole.Add(&dets[i]))
		}
		for cut := 1; cut < len(dets); cut++ {
			first, _ := New(Config{}, inv)
			var log []Record
			for i := range dets[:cut] {
				first.Add(&dets[i])
				recs, err := first.Changes()
				if err != nil {
					t.Fatal(err)
				}
				log = append(log, recs...)
			}
			b, err := first.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			fromWhole, _ := New(Config{}, inv)
			if err := fromWhole.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			fromRecords, _ := New(Config{}, inv)
			for _, r := range log {
				if err := fromRecords.RestoreRecord(r.Key, r.Value); err != nil {
					t.Fatal(err)
				}
			}
			for name, e := range map[string]*Engine{"whole state": fromWhole, "records": fromRecords} {
				for i := cut; i < len(dets); i++ {
					if got := e.Add(&dets[i]); !reflect.DeepEqual(got, want[i]) {
						t.Fatalf("scenario %d restored (%s) after %d detections: detection %d gives\n%v\nwant\n%v", si, name, cut, i, signature(got), signature(want[i]))
					}
				}
				checked++
			}
		}
	}
	t.Logf("%d restores checked over %d scenarios", checked, len(scenarios))
}
