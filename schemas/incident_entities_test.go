package schemas

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestIncidentEntitiesOmitted: entitiesOmitted is optional, in the JSON
// Schema, omitted when 0, and never negative. Before, the contract had
// no way to say an update leaves entities out, so the correlate stage
// listed every one and a storm's incident outgrew a message.
func TestIncidentEntitiesOmitted(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	in := &Incident{Version: IncidentVersion, ID: "a1", State: IncidentOpen, OpenedAt: t0, UpdatedAt: t0,
		Severity: SeverityCritical, Rule: RuleDevice, Cause: "device spine1 down", Confidence: 0.7,
		Entities:        []Entity{{Kind: EntityDevice, Device: "spine1"}},
		Evidence:        []Evidence{{Time: t0, Role: EvidenceMember, DetectionID: "d1", State: StateFiring, Device: "leaf1", Severity: SeverityCritical}},
		EntitiesOmitted: 9}
	b, err := MarshalIncident(in)
	if err != nil || !strings.Contains(string(b), `"entitiesOmitted":9`) {
		t.Fatalf("%v %s", err, b)
	}
	if err := validateJSON(compileSchema(t, IncidentSchemaJSON(), "urn:telekernel:schema:incident:v1"), b); err != nil {
		t.Errorf("the JSON Schema refuses %s: %v", b, err)
	}
	if back, err := UnmarshalIncident(b); err != nil || back.EntitiesOmitted != 9 {
		t.Errorf("round trip: %v %+v", err, back)
	}
	var schema map[string]any
	if err := json.Unmarshal(IncidentSchemaJSON(), &schema); err != nil {
		t.Fatal(err)
	}
	if req, _ := json.Marshal(schema["required"]); strings.Contains(string(req), "entitiesOmitted") {
		t.Error("entitiesOmitted must stay optional")
	}
	all := *in
	all.EntitiesOmitted = 0
	if b, _ := MarshalIncident(&all); strings.Contains(string(b), "entitiesOmitted") {
		t.Errorf("nothing omitted, yet the JSON has entitiesOmitted: %s", b)
	}
	all.EntitiesOmitted = -1
	if _, err := MarshalIncident(&all); err == nil || !strings.Contains(err.Error(), "entitiesOmitted") {
		t.Errorf("negative: %v", err)
	}
}
