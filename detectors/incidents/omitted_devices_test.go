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
// an update leaving none out has neither, nor has one whose names take
// more than the engine's bound (maxNamesBytes; 300 bytes here, so some
// updates are past it and some not). Before, an update named only its
// first MaxEntities entities' devices, and the ClickHouse row of a
// storm's incident missed the rest of them; then, with them all, a storm
// of 18 000 devices made an update over the producer's record limit.
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
	for _, c := range []struct{ limit, long, names int }{{3, 0, 0}, {3, 1 << 30, 0}, {50, 0, 0}, {50, 1 << 30, 0}, {3, 0, 300}, {3, 1 << 30, 300}} {
		limit, long := c.limit, c.long
		{
			ref, _ := New(Config{MaxEntities: 1 << 30}, sited("site"))
			e, _ := New(Config{MaxEntities: limit}, sited("site"))
			ref.long, e.long, e.namesBound = long, long, c.names
			omitted, past, sites := 0, 0, map[string]bool{}
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
					switch {
					case g.EntitiesOmitted == 0:
						wd, ws = nil, nil
					case c.names > 0 && namesBytes(wd)+namesBytes(ws) > c.names:
						wd, ws = nil, nil
						past++
					default:
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
			// Past the bound from before the new inventory on, with one.
			if omitted == 0 || !sites["site2"] || !sites["new2"] && c.names == 0 || c.names > 0 && past == 0 {
				t.Errorf("limit %d, long %d, names %d: %d updates left entities out naming their devices, naming sites %v, %d past the names' bound; want some, of both inventories, and some past the bound when there is one",
					limit, long, c.names, omitted, sites, past)
			}
		}
	}
}

// namesBytes is what names take in an update's JSON: each one's bytes,
// two quotes and a comma.
func namesBytes(names []string) int {
	n := 0
	for _, v := range names {
		n += len(v) + 3
	}
	return n
}
