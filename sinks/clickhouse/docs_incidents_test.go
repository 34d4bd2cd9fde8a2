package clickhouse

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// docsIncidentTables are the tables addDocsIncidents fills, in insert order.
var docsIncidentTables = []string{schemas.TableIncidents, schemas.TableIncidentMembers, schemas.TableInventory, schemas.TableInventoryLinks}

// addDocsIncidents adds the incident and inventory test data of the docs
// queries to data: a link incident between edge1 and edge2 (opened with
// two members, then resolved with four), a traffic incident on edge2 that
// the link incident absorbed (its last update resolved and merged into
// the link's, its member also in the link's), an unexplained one on edge2
// still open, and the inventory of the four devices (two sites) with the
// link. Members are detections of data, so the joins find them. The
// incidents are schemas.Incident updates flattened by the sink's own
// incidentCols and memberCols, so their rows are those the sink writes.
func addDocsIncidents(data map[string][]docsRow, day time.Time) {
	dets := data[schemas.TableDetections]
	var edge1, edge2 []docsRow
	for _, d := range dets {
		switch d["device"] {
		case q("edge1"):
			edge1 = append(edge1, d)
		case q("edge2"):
			edge2 = append(edge2, d)
		}
	}
	evidence := func(d docsRow, role string) schemas.Evidence {
		return schemas.Evidence{Time: unat(d["event_time"]), Role: role, DetectionID: unq(d["id"]), Fingerprint: unq(d["fingerprint"]),
			State: unq(d["state"]), Device: unq(d["device"]), Metric: unq(d["metric"]), Keys: unq(d["keys"]), Detector: unq(d["detector"]),
			Severity: unq(d["severity"])}
	}
	port := func(dev, site, name string) schemas.Entity {
		return schemas.Entity{Kind: schemas.EntityInterface, Device: dev, Name: name, Site: site, Role: "spine"}
	}
	// update is one update of an incident: opened at its first evidence,
	// updated at its latest (ev is in time order), resolved at resolved
	// when it is not zero.
	update := func(id, rule, cause string, resolved time.Time, ents []schemas.Entity, ev ...schemas.Evidence) schemas.Incident {
		in := schemas.Incident{Version: schemas.IncidentVersion, ID: id, State: schemas.IncidentOpen, OpenedAt: ev[0].Time,
			UpdatedAt: ev[len(ev)-1].Time, Severity: schemas.SeverityCritical, Rule: rule, Cause: cause, Confidence: 0.9,
			Action: "check the optic and fibre", Entities: ents, Evidence: ev}
		if !resolved.IsZero() {
			in.State, in.ResolvedAt = schemas.IncidentResolved, &resolved
		}
		return in
	}
	link := []schemas.Entity{port("edge1", "par1", "Ethernet1"), port("edge2", "lon1", "Ethernet1")}
	link[0].PeerDevice, link[0].PeerInterface = "edge2", "Ethernet1"
	link[1].PeerDevice, link[1].PeerInterface = "edge1", "Ethernet1"
	linkCause := "link edge1:Ethernet1 — edge2:Ethernet1 down"
	moved := evidence(edge2[1], schemas.EvidenceMember)
	traffic := update("inc-traffic", schemas.RuleTraffic, "in-octets of edge2:Ethernet2 moved", time.Time{},
		[]schemas.Entity{port("edge2", "lon1", "Ethernet2")}, moved)
	merged := traffic
	merged.State, merged.ResolvedAt, merged.MergedInto = schemas.IncidentResolved, &moved.Time, "inc-link"
	ins := []schemas.Incident{
		update("inc-link", schemas.RuleLink, linkCause, time.Time{}, link,
			evidence(edge1[0], schemas.EvidenceMember), evidence(edge1[1], schemas.EvidenceMember)),
		traffic,
		merged,
		update("inc-link", schemas.RuleLink, linkCause, moved.Time.Add(time.Minute), link,
			evidence(edge1[0], schemas.EvidenceMember), evidence(edge1[1], schemas.EvidenceMember),
			evidence(edge1[2], schemas.EvidenceEffect), moved),
		update("inc-edge2", schemas.RuleUnexplained, "unexplained in-octets on edge2", time.Time{},
			[]schemas.Entity{port("edge2", "lon1", "Ethernet1")}, evidence(edge2[0], schemas.EvidenceMember)),
	}
	for i := range ins {
		if err := ins[i].Validate(); err != nil {
			panic(fmt.Sprintf("docs data: incident update %d: %v", i, err))
		}
	}
	c, err := incidentCols(ins, schemas.LayoutModern)
	if err != nil {
		panic(err)
	}
	data[schemas.TableIncidents] = sinkRows(c, len(ins))
	ms := incidentMembers(ins)
	if c, err = memberCols(ms, schemas.LayoutModern); err != nil {
		panic(err)
	}
	data[schemas.TableIncidentMembers] = sinkRows(c, len(ms))
	loaded := at(day.Add(-time.Hour))
	for d := 1; d <= 4; d++ {
		site, role := "par1", "spine"
		if d%2 == 0 {
			site = "lon1"
		}
		if d > 2 {
			role = "leaf"
		}
		data[schemas.TableInventory] = append(data[schemas.TableInventory], docsRow{"device": q(fmt.Sprintf("edge%d", d)), "site": q(site), "role": q(role),
			"vendor": q("arista"), "model": q("7280R3"), "tags": "[]", "loaded_at": loaded})
	}
	data[schemas.TableInventoryLinks] = []docsRow{
		{"device": q("edge1"), "interface": q("Ethernet1"), "peer_device": q("edge2"), "peer_interface": q("Ethernet1"), "loaded_at": loaded},
		{"device": q("edge2"), "interface": q("Ethernet1"), "peer_device": q("edge1"), "peer_interface": q("Ethernet1"), "loaded_at": loaded},
	}
}

// checkDocsIncidents checks the answers of the incident queries by hand:
// FINAL keeps the resolved update of inc-link and the merged one of
// inc-traffic, the evidence joins every member's detection, the inventory
// puts edge1 in par1, and inc-traffic, merged into inc-link, is not
// counted again.
func checkDocsIncidents(t *testing.T, res map[string][][]any) {
	t.Helper()
	if r := res["incidents-open"]; len(r) != 1 || r[0][0] != "inc-edge2" {
		t.Errorf("incidents-open: %v, want only inc-edge2 (inc-link's and inc-traffic's latest updates are resolved)", r)
	}
	r := res["incident-evidence"]
	if len(r) != 6 || r[0][0] != "inc-edge2" || r[1][0] != "inc-link" || r[3][4] != schemas.EvidenceEffect || r[4][0] != "inc-link" ||
		r[5][0] != "inc-traffic" || r[4][3] != r[5][3] {
		t.Errorf("incident-evidence: %v, want inc-edge2's member, inc-link's four (the third an effect, the fourth absorbed from inc-traffic), then inc-traffic's", r)
	}
	for _, row := range r {
		if f, ok := cell(row[5]).(float64); !ok || f < 0.5 {
			t.Errorf("incident-evidence: %v has no score joined from detections", row)
		}
	}
	if r := res["incidents-by-site"]; len(r) != 2 || r[0][0] != "lon1" || !sameCell(r[0][2], 2.0) || !sameCell(r[0][3], 1.0) {
		t.Errorf("incidents-by-site: %v, want lon1 spine with 2 incidents (inc-link and inc-edge2; inc-traffic merged into inc-link), 1 open, first", r)
	}
}

// sinkRows returns the n rows of c, columns as the sink writes them in the
// modern layout, as docsRows.
func sinkRows(c cols, n int) []docsRow {
	out := make([]docsRow, n)
	for i := range out {
		out[i] = docsRow{}
	}
	for name, col := range c {
		v := reflect.ValueOf(col)
		for i := range out {
			out[i][name] = literal(v.Index(i).Interface())
		}
	}
	return out
}

// literal returns v as a SQL literal; times must be whole seconds (see
// docsRow).
func literal(v any) string {
	switch v := v.(type) {
	case string:
		return q(v)
	case time.Time:
		return at(v)
	case *time.Time:
		if v == nil {
			return "NULL"
		}
		return at(*v)
	case []string:
		s := make([]string, len(v))
		for i := range v {
			s[i] = q(v[i])
		}
		return "[" + strings.Join(s, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// unq is the string of the literal s (q's inverse).
func unq(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\'`, `'`).Replace(strings.TrimSuffix(strings.TrimPrefix(s, "'"), "'"))
}

// unat is the time of the literal s (at's inverse).
func unat(s string) time.Time {
	t, err := time.Parse("'2006-01-02 15:04:05'", s)
	if err != nil {
		panic(err)
	}
	return t
}
