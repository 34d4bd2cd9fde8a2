package incidents

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// messageMax is the most bytes one record may take on its way to the
// broker: franz-go's default ProducerBatchMaxBytes (1,000,012), below
// Kafka's default message.max.bytes (1,048,588).
const messageMax = 1_000_012

// TestStormUpdateFitsMessage runs the far-end storms of
// BenchmarkStormFarEnd at 2000 leaves and encodes each incident's last
// update, its largest, as the correlate stage writes it to Kafka.
// Before, the "down" storm's incident listed all of its 10 000 entities
// in every update, and its last one took 1.38 MB, which the broker
// refuses: the stage's transaction failed and the stage stopped. Now
// each stays under a third of a record (about 300 and 320 KB, of which
// about 20 KB are the Devices of every entity, listed or not).
func TestStormUpdateFitsMessage(t *testing.T) {
	const n = 2000
	inv := bigFabric(4, n)
	storms := farEndStorms(n)
	for _, name := range []string{"down", "lost"} {
		dets := storms[name]
		e, _ := New(Config{}, inv)
		last := map[string]*schemas.Incident{}
		for i := range dets {
			for _, in := range e.Add(&dets[i]) {
				last[in.ID] = in
			}
		}
		for id, in := range last {
			b, err := schemas.MarshalIncident(in)
			if err != nil {
				t.Fatal(err)
			}
			// A third of it, as MaxEntities' doc says: room for names
			// three times as long as the fabric's.
			if len(b) > messageMax/3 {
				t.Errorf("%s: incident %s's last update is %d bytes (%d entities, %d evidence), over a third of the %d a record may take",
					name, id, len(b), len(in.Entities), len(in.Evidence), messageMax)
			}
		}
	}
}

// TestMaxEntities: an engine with MaxEntities set gives, update for
// update, what one without a bound gives, but the entities: the first
// MaxEntities of them, EntitiesOmitted the rest, and Devices and Sites
// those of them all; an update naming no more is the same to the byte. Over the four spines of the far-end
// storm and over spine1 alone (its device, down by inference, named
// first), for a long incident's memo and without it. Before, there was
// no bound: every update listed every entity an incident named.
func TestMaxEntities(t *testing.T) {
	if _, err := New(Config{MaxEntities: -1}, nil); err == nil || !strings.Contains(err.Error(), "max_entities") {
		t.Errorf("max_entities -1: %v, want an error naming it", err)
	}
	const n = 100
	inv := bigFabric(4, n)
	var one []schemas.Detection
	for l := 1; l <= n; l++ {
		one = append(one, fire(l%50, fmt.Sprintf("leaf%d", l), mOper, "name=e1", "link_down", 0, 1))
	}
	storms := map[string][]schemas.Detection{"four spines": farEndStorms(n)["down"], "spine1": one}
	for name, dets := range storms {
		for _, limit := range []int{1, 2, 7, 150} {
			for _, long := range []int{0, 1 << 30} {
				ref, _ := New(Config{MaxEntities: math.MaxInt}, inv)
				e, _ := New(Config{MaxEntities: limit}, inv)
				ref.long, e.long = long, long
				lead := false
				for i := range dets {
					want, got := ref.Add(&dets[i]), e.Add(&dets[i])
					if len(got) != len(want) {
						t.Fatalf("%s, limit %d: detection %d: %d updates, want %d", name, limit, i, len(got), len(want))
					}
					for j, w := range want {
						lead = lead || w.Rule == schemas.RuleDevice && w.Entities[0].Device == "spine1"
						wb, _ := schemas.MarshalIncident(w)
						gb, _ := schemas.MarshalIncident(got[j])
						if len(w.Entities) <= limit {
							if !bytes.Equal(gb, wb) {
								t.Fatalf("%s, limit %d: detection %d: update of %d entities\n%s\nwant\n%s", name, limit, i, len(w.Entities), gb, wb)
							}
							continue
						}
						g := *got[j]
						if !reflect.DeepEqual(g.Entities, w.Entities[:limit]) || g.EntitiesOmitted != len(w.Entities)-limit {
							t.Fatalf("%s, limit %d: detection %d: %d entities listed, %d omitted; want the first %d of %d",
								name, limit, i, len(g.Entities), g.EntitiesOmitted, limit, len(w.Entities))
						}
						if wd, ws := distinctOf(w.Entities); !slices.Equal(g.Devices, wd) || !slices.Equal(g.Sites, ws) {
							t.Fatalf("%s, limit %d: detection %d: devices %q and sites %q, want those of every entity, %q and %q",
								name, limit, i, g.Devices, g.Sites, wd, ws)
						}
						g.Entities, g.EntitiesOmitted, g.Devices, g.Sites = w.Entities, 0, nil, nil
						if gb, _ := schemas.MarshalIncident(&g); !bytes.Equal(gb, wb) {
							t.Fatalf("%s, limit %d: detection %d: the update differs but for its entities\n%s\nwant\n%s", name, limit, i, gb, wb)
						}
					}
				}
				if name == "spine1" && !lead {
					t.Fatalf("%s: no update names spine1 down by inference first", name)
				}
			}
		}
	}
}

// distinctOf returns the distinct devices and non-empty sites of ens,
// sorted; nil for none.
func distinctOf(ens []schemas.Entity) (devices, sites []string) {
	for _, x := range ens {
		devices = append(devices, x.Device)
		if x.Site != "" {
			sites = append(sites, x.Site)
		}
	}
	slices.Sort(devices)
	slices.Sort(sites)
	return slices.Compact(devices), slices.Compact(sites)
}
