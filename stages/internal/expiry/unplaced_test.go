package expiry

import (
	"slices"
	"testing"
	"time"
)

// TestKeepUnplaced: a device its stage keeps not placed yet has a record
// (version 3, the version byte alone), and a restore from it and its keys,
// in either order, leaves it not placed, so its first sample placed sets
// its offset (rule 1 of Place) as in the writer; placing it there replaces
// the record (an offset's, or a tombstone at offset 0), and forgetting it
// tombstones it. A record of version 1 after it, or a tombstone, is a
// device placed. Before, a device restored with its keys was always
// placed, at offset 0 (Restored), and the writer's first sample of it set
// its offset where the restored one's did not.
func TestKeepUnplaced(t *testing.T) {
	const h = int64(time.Hour)
	tol := Tolerance(time.Hour)
	records := map[string][]byte{}
	take := func(ds *Devices) []string {
		var names []string
		ds.TakeChanged(func(name string, value []byte) {
			names = append(names, name)
			if value == nil {
				delete(records, name)
			} else {
				records[name] = value
			}
		})
		return names
	}
	c := Clock{Newest: 100 * h}
	ds := Devices{Tol: tol}
	for _, name := range []string{"behind", "on", "gone"} {
		d := ds.Get(name)
		ds.KeepUnplaced(d, name)
		ds.KeepUnplaced(d, name) // once is enough
		if d.Placed() {
			t.Fatalf("%s placed before its first Place", name)
		}
	}
	if names := take(&ds); len(names) != 3 || !slices.Equal(records["on"], []byte{unplacedVersion}) {
		t.Fatalf("records %v of %v, want the three of version %d alone", records, names, unplacedVersion)
	}
	ds.Forget("gone")
	take(&ds)
	if _, ok := records["gone"]; ok {
		t.Fatalf("gone forgotten: records %v, want its tombstone", records)
	}

	for _, keysFirst := range []bool{false, true} {
		r := Devices{Tol: tol}
		rc := c
		for _, name := range []string{"behind", "on"} {
			if keysFirst {
				r.Restored(name)
			}
			if err := r.RestoreOffset(name, records[name]); err != nil {
				t.Fatal(err)
			}
			if !keysFirst {
				r.Restored(name)
			}
			if r.Lookup(name).Placed() {
				t.Fatalf("keys first %v: %s restored placed, want not placed yet", keysFirst, name)
			}
		}
		for _, s := range []struct {
			name       string
			ts, offset int64
		}{{"behind", 94 * h, 6 * h}, {"on", 100*h - tol/2, 0}} {
			d := r.Lookup(s.name)
			if placed := r.Place(&rc, d, s.name, s.ts); placed != s.ts+s.offset || d.Offset != s.offset || !d.Placed() {
				t.Errorf("keys first %v: %s placed at %d offset %d, want %d, %d", keysFirst, s.name, placed, d.Offset, s.ts+s.offset, s.offset)
			}
		}
		got := map[string][]byte{}
		r.TakeChanged(func(name string, value []byte) { got[name] = value })
		if len(got) != 2 || got["on"] != nil || len(got["behind"]) == 0 || got["behind"][0] != offsetVersion {
			t.Errorf("keys first %v: records after placing %v, want behind's offset and on's tombstone", keysFirst, got)
		}
	}

	// A later record of the device replaces it: placed.
	r := Devices{Tol: tol}
	for _, v := range [][]byte{nil, {offsetVersion, 2, 2, 0}} {
		if err := r.RestoreOffset("on", records["on"]); err != nil {
			t.Fatal(err)
		}
		r.Restored("on")
		if err := r.RestoreOffset("on", v); err != nil {
			t.Fatal(err)
		}
		if d := r.Lookup("on"); !d.Placed() || d.recorded() != (v != nil) {
			t.Errorf("unplaced, then %v: placed %v, recorded %v", v, d.Placed(), d.recorded())
		}
	}
	for _, bad := range [][]byte{{unplacedVersion, 0}} {
		if err := r.RestoreOffset("x", bad); err == nil || err.Error() != "clock offset of device x: record of 2 bytes does not decode" {
			t.Errorf("record %v: %v", bad, err)
		}
	}
}
