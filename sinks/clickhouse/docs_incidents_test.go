package clickhouse

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// docsIncidentTables are the tables addDocsIncidents fills, in insert order.
var docsIncidentTables = []string{schemas.TableIncidents, schemas.TableIncidentMembers, schemas.TableInventory, schemas.TableInventoryLinks}

// addDocsIncidents adds the incident and inventory test data of the docs
// queries to data: a link incident between edge1 and edge2 (opened with
// two members, then resolved with a third), an unexplained one on edge2
// still open, and the inventory of the four devices (two sites) with the
// link. Members are detections of data, so the joins find them.
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
	member := func(inc string, d docsRow, role string) docsRow {
		return docsRow{"incident_id": q(inc), "event_time": d["event_time"], "detection_id": d["id"], "fingerprint": d["fingerprint"],
			"role": q(role), "state": d["state"], "device": d["device"], "metric": d["metric"], "keys": d["keys"], "detector": d["detector"], "severity": d["severity"]}
	}
	incident := func(id, state, rule, cause string, update int, resolved string, devices, sites []string, members int) docsRow {
		arr := func(v []string) string {
			for i := range v {
				v[i] = q(v[i])
			}
			return "[" + strings.Join(v, ", ") + "]"
		}
		return docsRow{"id": q(id), "version": "1", "update_version": fmt.Sprint(update), "state": q(state),
			"opened_at": at(day), "updated_at": at(day.Add(time.Duration(update) * time.Minute)), "resolved_at": resolved,
			"severity": q("critical"), "rule": q(rule), "cause": q(cause), "confidence": "0.9", "action": q("check the optic and fibre"),
			"devices": arr(devices), "sites": arr(sites), "members": fmt.Sprint(members), "entities": q("[]")}
	}
	link := "link edge1:Ethernet1 — edge2:Ethernet1 down"
	data[schemas.TableIncidents] = []docsRow{
		incident("inc-link", "open", schemas.RuleLink, link, 2, "NULL", []string{"edge1", "edge2"}, []string{"lon1", "par1"}, 2),
		incident("inc-link", "resolved", schemas.RuleLink, link, 9, at(day.Add(9*time.Minute)), []string{"edge1", "edge2"}, []string{"lon1", "par1"}, 3),
		incident("inc-edge2", "open", schemas.RuleUnexplained, "unexplained in-octets on edge2", 4, "NULL", []string{"edge2"}, []string{"lon1"}, 1),
	}
	data[schemas.TableIncidentMembers] = []docsRow{
		member("inc-link", edge1[0], schemas.EvidenceMember), member("inc-link", edge1[1], schemas.EvidenceMember),
		member("inc-link", edge1[2], schemas.EvidenceEffect), member("inc-edge2", edge2[0], schemas.EvidenceMember),
	}
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
// FINAL keeps the resolved update of inc-link, the evidence joins every
// member's detection, and the inventory puts edge1 in par1.
func checkDocsIncidents(t *testing.T, res map[string][][]any) {
	t.Helper()
	if r := res["incidents-open"]; len(r) != 1 || r[0][0] != "inc-edge2" {
		t.Errorf("incidents-open: %v, want only inc-edge2 (inc-link's latest update is resolved)", r)
	}
	r := res["incident-evidence"]
	if len(r) != 4 || r[0][0] != "inc-edge2" || r[1][0] != "inc-link" || r[3][4] != schemas.EvidenceEffect {
		t.Errorf("incident-evidence: %v, want inc-edge2's member then inc-link's three, the last an effect", r)
	}
	for _, row := range r {
		if f, ok := cell(row[5]).(float64); !ok || f < 0.5 {
			t.Errorf("incident-evidence: %v has no score joined from detections", row)
		}
	}
	if r := res["incidents-by-site"]; len(r) != 2 || r[0][0] != "lon1" || !sameCell(r[0][2], 2.0) || !sameCell(r[0][3], 1.0) {
		t.Errorf("incidents-by-site: %v, want lon1 spine with 2 incidents, 1 open, first", r)
	}
}
