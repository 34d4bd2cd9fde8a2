package incidents

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestOmittedUpdateNamesAllDevices: over the far-end storm of four
// spines under 100 leaves at three sites, the inventory's sites renamed
// half way, every update leaving entities out (MaxEntities 3 or 50) has
// as Devices and Sites those of every entity the same update of an engine
// without the bound lists, for a long incident's memo and without it;
// an update leaving none out has neither. Before, an update named only
// its first MaxEntities entities' devices, and the ClickHouse row of a
// storm's incident missed the rest of them.
func TestOmittedUpdateNamesAllDevices(t *testing.T) {
	const n = 100
	sited := func(prefix string) *schemas.Inventory {
		inv := bigFabric(4, n)
		for i := range inv.Devices {
			if strings.HasPrefix(inv.Devices[i].Name, "leaf") {
				inv.Devices[i].Site = fmt.Sprintf("%s%d", prefix, i%3)
			}
		}
		return inv
	}
	dets := farEndStorms(n)["down"]
	for _, limit := range []int{3, 50} {
		for _, long := range []int{0, 1 << 30} {
			ref, _ := New(Config{MaxEntities: 1 << 30}, sited("site"))
			e, _ := New(Config{MaxEntities: limit}, sited("site"))
			ref.long, e.long = long, long
			omitted, sites := 0, map[string]bool{}
			for i := range dets {
				if i == len(dets)/2 {
					ref.SetInventory(sited("new"))
					e.SetInventory(sited("new"))
				}
				want, got := ref.Add(&dets[i]), e.Add(&dets[i])
				if len(got) != len(want) {
					t.Fatalf("limit %d, long %d: detection %d: %d updates, want %d", limit, long, i, len(got), len(want))
				}
				for j, w := range want {
					g := got[j]
					wd, ws := distinctOf(w.Entities)
					if g.EntitiesOmitted == 0 {
						wd, ws = nil, nil
					} else {
						omitted++
					}
					if !slices.Equal(g.Devices, wd) || !slices.Equal(g.Sites, ws) || (g.Devices == nil) != (wd == nil) {
						t.Fatalf("limit %d, long %d: detection %d: %d entities listed, %d left out: devices %q, sites %q; want %q and %q",
							limit, long, i, len(g.Entities), g.EntitiesOmitted, g.Devices, g.Sites, wd, ws)
					}
					for _, s := range g.Sites {
						sites[s] = true
					}
				}
			}
			if omitted == 0 || !sites["site2"] || !sites["new2"] {
				t.Errorf("limit %d, long %d: %d updates left entities out, naming sites %v; want some, of both inventories", limit, long, omitted, sites)
			}
		}
	}
}
