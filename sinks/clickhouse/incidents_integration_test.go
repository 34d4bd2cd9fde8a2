package clickhouse

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// testIncident returns a link incident of two members opened at testDay
// 10:00; resolved adds a third member and resolves it a minute later.
func testIncident(resolved bool) schemas.Incident {
	open := testDay.Add(10 * time.Hour)
	ev := func(i int, dev string) schemas.Evidence {
		return schemas.Evidence{Time: open.Add(time.Duration(i) * 10 * time.Second), Role: schemas.EvidenceMember,
			DetectionID: "det-" + dev, Fingerprint: "fp-" + dev, State: schemas.StateFiring, Device: dev,
			Metric: metricOper, Keys: "name=Ethernet1", Detector: "state", Severity: schemas.SeverityCritical}
	}
	in := schemas.Incident{Version: schemas.IncidentVersion, ID: "inc-1", State: schemas.IncidentOpen, OpenedAt: open,
		UpdatedAt: open.Add(10 * time.Second), Severity: schemas.SeverityCritical, Rule: schemas.RuleLink,
		Cause: "link edge1:Ethernet1 — edge2:Ethernet1 down", Confidence: 0.9, Action: "check the optic and fibre",
		Entities: []schemas.Entity{{Kind: schemas.EntityInterface, Device: "edge1", Name: "Ethernet1", Site: "par1"},
			{Kind: schemas.EntityInterface, Device: "edge2", Name: "Ethernet1", Site: "lon1"}},
		Evidence: []schemas.Evidence{ev(0, "edge1"), ev(1, "edge2")}}
	if resolved {
		e := ev(2, "edge3")
		e.Role = schemas.EvidenceEffect
		in.Evidence = append(in.Evidence, e)
		at := open.Add(time.Minute)
		in.State, in.UpdatedAt, in.ResolvedAt = schemas.IncidentResolved, at, &at
	}
	return in
}

// TestIntegrationIncidentsAndInventory writes an incident's open and
// resolved updates, each twice (a re-delivery), through the stage, and the
// inventory twice, and reads one incident (resolved), three members in
// time order and the inventory joined to them.
func TestIntegrationIncidentsAndInventory(t *testing.T) {
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	st := NewIncidentsStage(s)
	for _, in := range []schemas.Incident{testIncident(false), testIncident(true), testIncident(false)} {
		v, err := schemas.MarshalIncident(&in)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := st.Add(ctx, &kgo.Record{Key: []byte(in.ID), Value: v}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.Add(ctx, &kgo.Record{Value: nil}); err != nil {
		t.Errorf("tombstone: %v, want skipped", err)
	}
	if err := st.Add(ctx, &kgo.Record{Value: []byte(`{"version":1,"id":""}`)}); !errors.Is(err, schemas.ErrMalformed) {
		t.Errorf("bad incident: %v, want ErrMalformed", err)
	}
	if n, err := st.Flush(ctx); err != nil || n != 6 {
		t.Fatalf("Flush = %d, %v; want 6 updates", n, err)
	}
	inv := &schemas.Inventory{Version: schemas.InventoryVersion,
		Devices: []schemas.Device{{Name: "edge1", Site: "par1", Role: "spine"}, {Name: "edge2", Site: "lon1", Role: "spine", Tags: []string{"lab"}}, {Name: "edge3", Site: "lon1"}},
		Links:   []schemas.InvLink{{A: schemas.Port{Device: "edge1", Interface: "Ethernet1"}, B: schemas.Port{Device: "edge2", Interface: "Ethernet1"}}}}
	for range 2 {
		if n, err := s.InsertInventory(ctx, inv, time.Now()); err != nil || n != 5 {
			t.Fatalf("InsertInventory = %d, %v; want 3 devices + 2 link ends", n, err)
		}
	}
	for table, want := range map[string]uint64{schemas.TableIncidents: 1, schemas.TableIncidentMembers: 3, schemas.TableInventory: 3, schemas.TableInventoryLinks: 2} {
		if n, err := s.Count(ctx, table); err != nil || n != want {
			t.Errorf("Count(%s) = %d, %v; want %d", table, n, err, want)
		}
	}
	var state, sites string
	var members uint32
	q := "SELECT state, members, arrayStringConcat(sites, ',') FROM " + s.db + ".incidents FINAL WHERE id = 'inc-1'"
	if err := s.conn.QueryRow(ctx, q).Scan(&state, &members, &sites); err != nil || state != "resolved" || members != 3 || sites != "lon1,par1" {
		t.Errorf("incident: %s %d %s, %v; want resolved 3 lon1,par1 (the latest update wins over a re-delivered older one)", state, members, sites, err)
	}
	// 18.16 joins two tables per SELECT: nest.
	rows, err := s.conn.Query(ctx, "SELECT device, site, peer_device FROM (SELECT device, event_time, site FROM"+
		" (SELECT device, event_time FROM "+s.db+".incident_members FINAL WHERE incident_id = 'inc-1') AS m"+
		" ANY LEFT JOIN (SELECT device, site FROM "+s.db+".inventory FINAL) AS v USING device) AS mv"+
		" ANY LEFT JOIN (SELECT device, peer_device FROM "+s.db+".inventory_links FINAL) AS l USING device ORDER BY event_time")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var d, site, peer string
		if err := rows.Scan(&d, &site, &peer); err != nil {
			t.Fatal(err)
		}
		got = append(got, d+"/"+site+"/"+peer)
	}
	if want := "[edge1/par1/edge2 edge2/lon1/edge1 edge3/lon1/]"; fmtSlice(got) != want {
		t.Errorf("members joined to the inventory: %v, want %s", got, want)
	}
}

func fmtSlice(s []string) string { return "[" + strings.Join(s, " ") + "]" }

// TestIntegrationIncidentOpenedEarlier writes an incident's updates as the
// correlate engine makes them when an earlier symptom joins an open
// incident (incidents.insert moves Opened back): the first update opened
// on 1 December, the later one, resolved, on 30 November, a month before.
// Each is written twice (a re-delivery). The incident must be one row under
// FINAL, resolved, and the analysts' incidents-open query must not list it.
func TestIntegrationIncidentOpenedEarlier(t *testing.T) {
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	first := testIncident(false)
	open := time.Date(2026, 12, 1, 0, 0, 30, 0, time.UTC)
	first.OpenedAt, first.UpdatedAt = open, open
	for i := range first.Evidence {
		first.Evidence[i].Time = open
	}
	later := testIncident(true)
	earlier := open.Add(-40 * time.Second) // 2026-11-30 23:59:50
	later.OpenedAt, later.UpdatedAt = earlier, open.Add(time.Minute)
	later.ResolvedAt = &later.UpdatedAt
	for i := range later.Evidence {
		later.Evidence[i].Time = open
	}
	later.Evidence[0].Time = earlier
	for _, in := range []schemas.Incident{first, first, later, later} {
		if _, err := s.InsertIncidents(ctx, []schemas.Incident{in}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.Count(ctx, schemas.TableIncidents); err != nil || n != 1 {
		t.Errorf("Count(incidents) = %d, %v; want 1 (the latest update of inc-1)", n, err)
	}
	var open1 uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.db+".incidents FINAL WHERE state = 'open'").Scan(&open1); err != nil || open1 != 0 {
		t.Errorf("incidents open under FINAL = %d, %v; want 0 (the incident resolved)", open1, err)
	}
	// Merges never join parts of two partitions: without FINAL both
	// months keep a row, which is why the analysts' queries read FINAL.
	if n := rawCount(t, s, schemas.TableIncidents); n < 2 {
		t.Errorf("raw count %d, want the two months' rows (else the test does not span partitions)", n)
	}
}

// TestIntegrationIncidentUpdatesOfOneTime writes two updates of one
// incident with the same updatedAt and state, as the correlate engine
// makes them when late evidence (older than the latest) joins: the second
// lists one member more. Every update must have a higher update_version
// than the one before, so that an analyst reads the later one whatever
// the order the rows were inserted in: argMax(…, update_version) over the
// rows as correlate wrote them, then FINAL and OPTIMIZE … FINAL after a
// replay inserted the older one again, last. On the real server.
func TestIntegrationIncidentUpdatesOfOneTime(t *testing.T) {
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	older := testIncident(false)
	newer := testIncident(false)
	late := newer.Evidence[1]
	late.DetectionID, late.Fingerprint, late.Device = "det-edge0", "fp-edge0", "edge0"
	late.Time = newer.OpenedAt.Add(5 * time.Second) // before updatedAt: it stays as it was
	newer.Evidence = append([]schemas.Evidence{newer.Evidence[0], late}, newer.Evidence[1:]...)
	t.Logf("update_version: older %d, newer %d", schemas.IncidentUpdateVersion(&older), schemas.IncidentUpdateVersion(&newer))
	members := func(q string) uint32 {
		t.Helper()
		var n uint32
		if err := s.conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, in := range []schemas.Incident{older, newer} {
		if _, err := s.InsertIncidents(ctx, []schemas.Incident{in}); err != nil {
			t.Fatal(err)
		}
	}
	if n := members("SELECT argMax(members, update_version) FROM " + s.db + ".incidents WHERE id = 'inc-1'"); n != 3 {
		t.Errorf("argMax(members, update_version) = %d, want 3 (the later update)", n)
	}
	if _, err := s.InsertIncidents(ctx, []schemas.Incident{older}); err != nil { // a replay, in another order
		t.Fatal(err)
	}
	if n := members("SELECT members FROM " + s.db + ".incidents FINAL WHERE id = 'inc-1'"); n != 3 {
		t.Errorf("FINAL: members = %d, want 3 (the later update)", n)
	}
	if err := s.conn.Exec(ctx, "OPTIMIZE TABLE "+s.db+".incidents FINAL"); err != nil {
		t.Fatal(err)
	}
	if n := members("SELECT members FROM " + s.db + ".incidents WHERE id = 'inc-1'"); n != 3 {
		t.Errorf("after OPTIMIZE … FINAL: members = %d, want 3 (the later update)", n)
	}
}

// TestIntegrationIncidentReopenAfterLaterResolution writes an incident
// resolved later than its latest evidence (as a stale_after close does),
// then its reopening by late firing evidence older than that resolution:
// FINAL must read it open, as argMax(…, update_version) over the rows does,
// whatever the order the rows were inserted in. On the real server.
func TestIntegrationIncidentReopenAfterLaterResolution(t *testing.T) {
	s := newTestSink(t, nil)
	ctx := context.Background()
	if err := s.EnsureTables(ctx); err != nil {
		t.Fatal(err)
	}
	open := testIncident(false)
	resolved := testIncident(false)
	stale := open.UpdatedAt.Add(time.Hour) // stale_after 1h
	resolved.State, resolved.ResolvedAt = schemas.IncidentResolved, &stale
	reopened := testIncident(false)
	late := reopened.Evidence[1]
	late.DetectionID, late.Fingerprint, late.Device = "det-edge0", "fp-edge0", "edge0"
	late.Time = open.UpdatedAt.Add(10 * time.Minute) // after the latest evidence, before the resolution
	reopened.Evidence, reopened.UpdatedAt = append(reopened.Evidence, late), late.Time
	t.Logf("update_version: open %d, resolved %d, reopened %d", schemas.IncidentUpdateVersion(&open),
		schemas.IncidentUpdateVersion(&resolved), schemas.IncidentUpdateVersion(&reopened))
	state := func(q string) string {
		t.Helper()
		var st string
		if err := s.conn.QueryRow(ctx, q).Scan(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	for _, in := range []schemas.Incident{reopened, open, resolved} { // a replay wrote the resolution last
		if _, err := s.InsertIncidents(ctx, []schemas.Incident{in}); err != nil {
			t.Fatal(err)
		}
	}
	if st := state("SELECT argMax(state, update_version) FROM " + s.db + ".incidents WHERE id = 'inc-1'"); st != schemas.IncidentOpen {
		t.Errorf("argMax(state, update_version) = %s, want open (the reopening)", st)
	}
	if st := state("SELECT state FROM " + s.db + ".incidents FINAL WHERE id = 'inc-1'"); st != schemas.IncidentOpen {
		t.Errorf("FINAL: state = %s, want open (the reopening)", st)
	}
}
