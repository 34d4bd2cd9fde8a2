package incidents

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestStateRecords: an engine restored, at any point of a sequence with
// merges, expiries and a dropped resolution, from every record Changes
// returned so far, in order, holds the original's state and goes on as
// the original does; a whole-engine state (the stage's record before)
// comes back as records of every incident.
func TestStateRecords(t *testing.T) {
	dets := append(fabricEvents(),
		det(1300, schemas.StateResolved, "leaf3", mTemp, "name=Inlet", "robust_z", 30, 30),
		det(1300, schemas.StateResolved, "leaf3", mPSU, "name=PSU2", "robust_z", 2, 2),
		det(1300, schemas.StateResolved, "leaf9", mOper, "name=e9", "link_down", 1, 1), // no incident knows it
		fire(9000, "leaf4", mTemp, "name=Inlet", "robust_z", 40, 30),                   // the resolved ones expire
	)
	whole, _ := New(Config{}, fabricInventory())
	feed(whole, dets[:len(dets)-1])
	expired := len(whole.incs) + 1 // with the last detection's own
	feed(whole, dets[len(dets)-1:])
	for cut := 1; cut <= len(dets); cut++ {
		first, _ := New(Config{}, fabricInventory())
		var log []Record
		for i := range dets[:cut] {
			first.Add(&dets[i])
			recs, err := first.Changes()
			if err != nil {
				t.Fatal(err)
			}
			log = append(log, recs...)
		}
		if recs, _ := first.Changes(); len(recs) != 0 {
			t.Fatalf("cut %d: %d records with nothing changed", cut, len(recs))
		}
		restored, _ := New(Config{}, fabricInventory())
		for _, r := range log {
			if err := restored.RestoreRecord(r.Key, r.Value); err != nil {
				t.Fatalf("cut %d: %s: %v", cut, r.Key, err)
			}
		}
		a, _ := first.MarshalBinary()
		b, _ := restored.MarshalBinary()
		if !bytes.Equal(a, b) {
			t.Fatalf("cut %d: restored state differs:\n%s\n%s", cut, a, b)
		}
		feed(restored, dets[cut:])
		if got, want := signature(restored.Open()), signature(whole.Open()); !slices.Equal(got, want) {
			t.Errorf("cut %d, after a restore:\n%s\nwant\n%s", cut, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if n := len(whole.incs); cut == len(dets) && (n != len(first.incs) || n >= expired) {
			t.Errorf("%d incidents held after the last detection (the original %d), want fewer than %d (the resolved expired)", len(first.incs), n, expired)
		}
	}

	// The whole-engine form: restored, every incident is written again.
	first, _ := New(Config{}, fabricInventory())
	feed(first, dets[:len(dets)-1])
	b, _ := first.MarshalBinary()
	legacy, _ := New(Config{}, fabricInventory())
	if err := legacy.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	recs, err := legacy.Changes()
	if err != nil || len(recs) != len(first.incs)+1 || recs[len(recs)-1].Key != MetaKey {
		t.Fatalf("a whole state gave %d records (%v), want one per incident (%d) and the counters", len(recs), err, len(first.incs))
	}
	restored, _ := New(Config{}, fabricInventory())
	for _, r := range recs {
		if err := restored.RestoreRecord(r.Key, r.Value); err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := restored.MarshalBinary(); !bytes.Equal(b, c) {
		t.Errorf("restored from a whole state's records:\n%s\nwant\n%s", c, b)
	}

	for _, c := range []struct{ key, value, want string }{
		{"bogus", "x", `key "bogus" is neither`},
		{"incident/0", "x", `key "incident/0" is neither`},
		{"incident/3", string([]byte{tagIncident, 9}), "incident/3: unknown state version 9"},
		{"incident/3", string([]byte{tagIncident, incidentVersion}) + `{"Seq":4,"Members":[{}]}`, "incident/3 holds incident number 4"},
		{"incident/3", string([]byte{tagIncident, incidentVersion}) + `{"Seq":3}`, "incident/3: an incident has no members"},
		{MetaKey, string([]byte{tagMeta, metaVersion}) + "{", "meta: unexpected end of JSON input"},
	} {
		if err := restored.RestoreRecord(c.key, []byte(c.value)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: %v, want an error containing %q", c.key, c.value, err, c.want)
		}
	}
}
