package schemas

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestIncidentMergedInto: mergedInto is optional, in the JSON Schema,
// allowed only on a resolved incident naming another, and omitted when
// empty.
func TestIncidentMergedInto(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	in := &Incident{Version: IncidentVersion, ID: "a1", State: IncidentResolved, OpenedAt: t0, UpdatedAt: t0, ResolvedAt: &t0,
		Severity: SeverityWarning, Rule: RuleSession, Cause: "BGP/BFD session reset on b", Confidence: 0.8,
		Evidence:   []Evidence{{Time: t0, Role: EvidenceMember, DetectionID: "d1", State: StateFiring, Device: "b", Severity: SeverityWarning}},
		MergedInto: "b2"}
	b, err := MarshalIncident(in)
	if err != nil || !strings.Contains(string(b), `"mergedInto":"b2"`) {
		t.Fatalf("merged incident: %v %s", err, b)
	}
	if back, err := UnmarshalIncident(b); err != nil || back.MergedInto != "b2" {
		t.Errorf("round trip: %v %+v", err, back)
	}
	var schema map[string]any
	if err := json.Unmarshal(IncidentSchemaJSON(), &schema); err != nil {
		t.Fatal(err)
	}
	if _, ok := schema["properties"].(map[string]any)["mergedInto"]; !ok {
		t.Error("the JSON Schema does not list mergedInto")
	}
	if req, _ := json.Marshal(schema["required"]); strings.Contains(string(req), "mergedInto") {
		t.Error("mergedInto must stay optional")
	}
	open := *in
	open.State, open.ResolvedAt = IncidentOpen, nil
	if _, err := MarshalIncident(&open); err == nil || !strings.Contains(err.Error(), "mergedInto") {
		t.Errorf("open and merged: %v", err)
	}
	self := *in
	self.MergedInto = self.ID
	if _, err := MarshalIncident(&self); err == nil {
		t.Error("merged into itself: no error")
	}
	plain := *in
	plain.MergedInto = ""
	if b, _ := MarshalIncident(&plain); strings.Contains(string(b), "mergedInto") {
		t.Errorf("not merged, yet the JSON has mergedInto: %s", b)
	}
}

// TestIncidentEvidenceOmitted: evidenceOmitted is optional, in the JSON
// Schema, omitted when 0, and never negative.
func TestIncidentEvidenceOmitted(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	in := &Incident{Version: IncidentVersion, ID: "a1", State: IncidentOpen, OpenedAt: t0, UpdatedAt: t0,
		Severity: SeverityCritical, Rule: RuleLink, Cause: "link a:e1 — b:e1 down", Confidence: 0.9,
		Evidence:        []Evidence{{Time: t0, Role: EvidenceMember, DetectionID: "d1", State: StateFiring, Device: "a", Severity: SeverityCritical}},
		EvidenceOmitted: 7}
	b, err := MarshalIncident(in)
	if err != nil || !strings.Contains(string(b), `"evidenceOmitted":7`) {
		t.Fatalf("%v %s", err, b)
	}
	if back, err := UnmarshalIncident(b); err != nil || back.EvidenceOmitted != 7 {
		t.Errorf("round trip: %v %+v", err, back)
	}
	var schema map[string]any
	if err := json.Unmarshal(IncidentSchemaJSON(), &schema); err != nil {
		t.Fatal(err)
	}
	if _, ok := schema["properties"].(map[string]any)["evidenceOmitted"]; !ok {
		t.Error("the JSON Schema does not list evidenceOmitted")
	}
	if req, _ := json.Marshal(schema["required"]); strings.Contains(string(req), "evidenceOmitted") {
		t.Error("evidenceOmitted must stay optional")
	}
	all := *in
	all.EvidenceOmitted = 0
	if b, _ := MarshalIncident(&all); strings.Contains(string(b), "evidenceOmitted") {
		t.Errorf("nothing omitted, yet the JSON has evidenceOmitted: %s", b)
	}
	all.EvidenceOmitted = -1
	if _, err := MarshalIncident(&all); err == nil || !strings.Contains(err.Error(), "evidenceOmitted") {
		t.Errorf("negative: %v", err)
	}
}
