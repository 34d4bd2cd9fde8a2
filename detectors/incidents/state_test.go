package incidents

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

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

	// A record written before incidents had a Seq: numbered in order, and
	// the engine restored from its records goes on as the original.
	noSeq := regexp.MustCompile(`"Seq":\d+,|,"lastSeq":\d+`).ReplaceAll(b, nil)
	if bytes.Equal(noSeq, b) {
		t.Fatal("the whole state has no Seq to strip")
	}
	older, _ := New(Config{}, fabricInventory())
	if err := older.UnmarshalBinary(noSeq); err != nil {
		t.Fatal(err)
	}
	recs, _ = older.Changes()
	again, _ := New(Config{}, fabricInventory())
	for _, r := range recs {
		if err := again.RestoreRecord(r.Key, r.Value); err != nil {
			t.Fatal(err)
		}
	}
	for i, in := range again.incs {
		if in.Seq != uint64(i)+1 {
			t.Fatalf("incident %d of a record without Seq numbered %d", i, in.Seq)
		}
	}
	feed(again, dets[len(dets)-1:])
	if got, want := signature(again.Open()), signature(whole.Open()); !slices.Equal(got, want) {
		t.Errorf("after a record without Seq:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
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

// TestEvidenceBounded: a link that goes down and up every 4 minutes (never
// quiet for Reopen, never flapping by the state rule) is one incident that
// keeps taking evidence; its updates list the first and the latest
// MaxEvidence/2 detections each and count the rest, so an update stays
// small however long it lasts, and every detection is listed by the
// update it joined, a late one too.
func TestEvidenceBounded(t *testing.T) {
	e, _ := New(Config{MaxEvidence: 20}, testInventory())
	var last *schemas.Incident
	listed := map[string]bool{}
	n := 0
	for i := range 200 {
		for _, d := range []schemas.Detection{
			fire(i*240, "leaf1", mOper, "name=e1", "link_down", 0, 1),
			det(i*240+30, schemas.StateResolved, "leaf1", mOper, "name=e1", "link_down", 1, 1),
		} {
			out := e.Add(&d)
			n++
			last = out[len(out)-1]
			for _, ev := range last.Evidence {
				listed[ev.DetectionID] = true
			}
			if !listed[d.ID] {
				t.Fatalf("detection %s is not in the update it joined", d.ID)
			}
		}
	}
	if len(e.Open()) != 1 {
		t.Fatalf("%d incidents, want the one link incident", len(e.Open()))
	}
	ev := last.Evidence
	if len(ev) != 20 || last.EvidenceOmitted != n-20 || len(listed) != n {
		t.Fatalf("%d evidence items, %d omitted, %d listed over the updates; want 20, %d, %d", len(ev), last.EvidenceOmitted, len(listed), n-20, n)
	}
	if !ev[0].Time.Equal(t0) || !ev[9].Time.Equal(t0.Add(16*time.Minute+30*time.Second)) || !ev[19].Time.Equal(t0.Add(199*4*time.Minute+30*time.Second)) {
		t.Errorf("evidence %v … %v … %v, want the first 10 and the latest 10", ev[0].Time, ev[9].Time, ev[19].Time)
	}
	b, err := schemas.MarshalIncident(last)
	if err != nil || len(b) > 20<<10 || !strings.Contains(string(b), fmt.Sprintf(`"evidenceOmitted":%d`, n-20)) {
		t.Errorf("the update is %d bytes (%v), want under 20 KB with evidenceOmitted %d", len(b), err, n-20)
	}
	if rule := last.Rule; rule != schemas.RuleLink {
		t.Errorf("rule %s, want link: the rules see every member", rule)
	}
	// A detection that arrives late (its partition behind), its event time
	// in the middle of those omitted, is still listed by its update.
	late := fire(100*240+10, "spine1", mOper, "name=e3", "link_down", 0, 1)
	out := e.Add(&late)
	got := out[len(out)-1]
	if got.ID != last.ID || !slices.ContainsFunc(got.Evidence, func(ev schemas.Evidence) bool { return ev.DetectionID == late.ID }) ||
		len(got.Evidence) != 21 || got.EvidenceOmitted != n+1-21 {
		t.Errorf("the late detection's update: incident %s (want %s), %d listed (want 21, with it), %d omitted (want %d)",
			got.ID, last.ID, len(got.Evidence), got.EvidenceOmitted, n+1-21)
	}
}

// TestMemoMatchesFresh: the engine's memo of every incident (class, member
// devices, alerts) never goes stale: at every
// detection of shuffled fabric events, with the inventory swapped midway,
// a long-lived engine answers as one restored just before it, whose memos
// start empty.
func TestMemoMatchesFresh(t *testing.T) {
	for seed := range 20 {
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		dets := shuffleWithin(rng, append(fabricEvents(),
			// A session reset, then its link down: the incident's class
			// turns from session to link, so the link's next fall within
			// reopen rejoins it.
			fire(3000, "leaf3", mBGP, bgp("10.1.3.0"), "session_down", 0, 1),
			fire(3001, "leaf3", mOper, "name=e1", "link_down", 0, 1),
			det(3100, schemas.StateResolved, "leaf3", mBGP, bgp("10.1.3.0"), "session_down", 1, 1),
			det(3101, schemas.StateResolved, "leaf3", mOper, "name=e1", "link_down", 1, 1),
			fire(3300, "leaf3", mOper, "name=e1", "link_down", 0, 1),
		), 5)
		long, _ := New(Config{}, nil)
		for i := range dets {
			if i == len(dets)/3 {
				long.SetInventory(fabricInventory()) // from none to the fabric's
			}
			b, err := long.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			fresh, _ := New(Config{}, nil)
			if i >= len(dets)/3 {
				fresh.SetInventory(fabricInventory())
			}
			if err := fresh.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			got, want := long.Add(&dets[i]), fresh.Add(&dets[i])
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, detection %d (%s): the long-lived engine gave\n%+v\na fresh one\n%+v", seed, i, dets[i].ID, got, want)
			}
		}
	}
}

// TestPeerFollowsInventory: the peer the engine last looked up is asked
// again of a new inventory.
func TestPeerFollowsInventory(t *testing.T) {
	e, _ := New(Config{}, testInventory())
	port := schemas.Port{Device: "spine1", Interface: "e3"}
	if p, ok := e.peer(port); !ok || p.Device != "leaf1" || p.Interface != "e1" {
		t.Fatalf("peer of spine1:e3 %v %t, want leaf1:e1", p, ok)
	}
	inv := testInventory()
	inv.Links[0].B = schemas.Port{Device: "leaf2", Interface: "e7"}
	e.SetInventory(inv)
	if p, ok := e.peer(port); !ok || p.Device != "leaf2" || p.Interface != "e7" {
		t.Errorf("after a new inventory, peer of spine1:e3 %v %t, want leaf2:e7", p, ok)
	}
}

// fabricWithout returns fabricInventory without the named devices (and
// their links and sessions).
func fabricWithout(names ...string) *schemas.Inventory {
	inv := fabricInventory()
	out := &schemas.Inventory{Version: inv.Version}
	for _, d := range inv.Devices {
		if !slices.Contains(names, d.Name) {
			out.Devices = append(out.Devices, d)
		}
	}
	for _, l := range inv.Links {
		if !slices.Contains(names, l.A.Device) && !slices.Contains(names, l.B.Device) {
			out.Links = append(out.Links, l)
		}
	}
	for _, s := range inv.Sessions {
		if !slices.Contains(names, s.Device) && !slices.Contains(names, s.PeerDevice) {
			out.Sessions = append(out.Sessions, s)
		}
	}
	return out
}

// TestRestoreMatchesWithStale: with stale_after, a small max_evidence,
// devices leaving the inventory and coming back, and devices whose clocks
// now and then run hours ahead (two no inventory lists), an engine restored
// from its compacted records now and then gives, detection by detection,
// what an engine never restored (and checking every incident) gives. So
// what a stale close keeps for the resolutions to come (the time it was
// found stale) is in the incident's record.
func TestRestoreMatchesWithStale(t *testing.T) {
	cfg := Config{StaleAfter: 40 * time.Minute, MaxEvidence: 6}
	for seed := range 40 {
		rng := rand.New(rand.NewPCG(uint64(seed), 11))
		dets := randomStream(rng, 400)
		for i := range dets {
			if strings.HasPrefix(dets[i].Device, "edge") && rng.IntN(4) == 0 {
				// Its clock runs hours ahead; the detect stage's is right.
				dets[i].EventTime = dets[i].EventTime.Add(time.Duration(1+rng.IntN(20)) * time.Hour)
			}
		}
		invs := []*schemas.Inventory{fabricInventory(), fabricWithout("leaf2"), fabricWithout("spine1", "leaf3"), nil}
		inv := invs[0]
		ref, _ := New(cfg, inv)
		ref.scanAll = true
		e, _ := New(cfg, inv)
		log := map[string][]byte{}
		for i := range dets {
			switch r := rng.IntN(100); {
			case r < 3:
				inv = invs[rng.IntN(len(invs))]
				ref.SetInventory(inv)
				e.SetInventory(inv)
			case r < 8:
				recs, err := e.Changes()
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range recs {
					log[r.Key] = r.Value
				}
				e, _ = New(cfg, inv)
				for k, v := range log {
					if err := e.RestoreRecord(k, v); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, want := e.Add(&dets[i]), ref.Add(&dets[i])
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, detection %d (%s %s): restored\n%s\nnever restored\n%s", seed, i, dets[i].State, dets[i].ID,
					strings.Join(signature(got), "\n"), strings.Join(signature(want), "\n"))
			}
		}
	}
}
