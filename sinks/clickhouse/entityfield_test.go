package clickhouse

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// entityFieldPlain is entityField as it was: each value checked against
// every one kept before it.
func entityFieldPlain(in *schemas.Incident, f func(schemas.Entity) string) []string {
	out := []string{}
	for _, e := range in.Entities {
		if v := f(e); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// TestEntityFieldOrder: entityField gives the devices and sites of
// random entity lists (repeats, empty values, none at all) as the plain
// pass does, value for value and in the same order, and an empty list,
// not nil, for none. Before, it was the plain pass, quadratic in the
// distinct values (BenchmarkEntityField: a storm's 1 000 devices took
// half a million compares per update and field).
func TestEntityFieldOrder(t *testing.T) {
	device := func(e schemas.Entity) string { return e.Device }
	site := func(e schemas.Entity) string { return e.Site }
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 1))
		in := &schemas.Incident{}
		n, names := r.IntN(60), 1+r.IntN(30)
		for range n {
			e := schemas.Entity{Kind: schemas.EntityInterface, Device: fmt.Sprintf("leaf%d", r.IntN(names)), Name: "Ethernet1"}
			if r.IntN(4) > 0 {
				e.Site = fmt.Sprintf("site%d", r.IntN(1+names/4))
			}
			if r.IntN(10) == 0 {
				e.Device = ""
			}
			in.Entities = append(in.Entities, e)
		}
		for name, f := range map[string]func(schemas.Entity) string{"devices": device, "sites": site} {
			got, want := entityField(in, nil, f), entityFieldPlain(in, f)
			if got == nil || !slices.Equal(got, want) {
				t.Fatalf("seed %d: %s of %d entities: %q, want %q", seed, name, n, got, want)
			}
		}
	}
}

// BenchmarkEntityField computes the devices and sites of an update
// listing a storm's 1 000 entities (engine.max_entities), one device
// each over 20 sites, as incidentCols does for every update.
func BenchmarkEntityField(b *testing.B) {
	in := &schemas.Incident{}
	for i := range 1000 {
		in.Entities = append(in.Entities, schemas.Entity{Kind: schemas.EntityDevice, Device: fmt.Sprintf("leaf%04d", (i*7919)%1000), Site: fmt.Sprintf("site%d", i%20)})
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(entityField(in, nil, func(e schemas.Entity) string { return e.Device })) != 1000 ||
			len(entityField(in, nil, func(e schemas.Entity) string { return e.Site })) != 20 {
			b.Fatal("wrong count")
		}
	}
}
