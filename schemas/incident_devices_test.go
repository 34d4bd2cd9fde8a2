package schemas

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestIncidentDevices: devices and sites are optional, in the JSON
// Schema, round trip, are omitted when nil, and an empty name is refused
// by both the JSON Schema and Validate. Before, the contract had no way
// to name the devices of the entities an update leaves out, so a storm's
// row in ClickHouse listed the devices of its first entities only.
func TestIncidentDevices(t *testing.T) {
	s := compileSchema(t, IncidentSchemaJSON(), "urn:telekernel:schema:incident:v1")
	in := exampleIncident()
	in.EntitiesOmitted, in.Devices, in.Sites = 3, []string{"a", "b", "c"}, []string{"fra1"}
	b, err := MarshalIncident(in)
	if err != nil || !strings.Contains(string(b), `"devices":["a","b","c"],"sites":["fra1"]`) {
		t.Fatalf("%v %s", err, b)
	}
	if err := validateJSON(s, b); err != nil {
		t.Errorf("the JSON Schema refuses %s: %v", b, err)
	}
	if back, err := UnmarshalIncident(b); err != nil || !slices.Equal(back.Devices, in.Devices) || !slices.Equal(back.Sites, in.Sites) {
		t.Errorf("round trip: %v %+v", err, back)
	}
	var schema map[string]any
	if err := json.Unmarshal(IncidentSchemaJSON(), &schema); err != nil {
		t.Fatal(err)
	}
	req, _ := json.Marshal(schema["required"])
	for _, f := range []string{"devices", "sites"} {
		if strings.Contains(string(req), `"`+f+`"`) {
			t.Errorf("%s must stay optional", f)
		}
	}
	if b, _ := MarshalIncident(exampleIncident()); strings.Contains(string(b), `"devices"`) || strings.Contains(string(b), `"sites"`) {
		t.Errorf("nothing omitted, yet the JSON has devices or sites: %s", b)
	}
	for _, bad := range []func(*Incident){
		func(in *Incident) { in.Devices = []string{"a", ""} },
		func(in *Incident) { in.Sites = []string{""} },
	} {
		x := exampleIncident()
		x.EntitiesOmitted, x.Devices = 1, []string{"a"}
		bad(x)
		raw, _ := json.Marshal(x)
		if validateJSON(s, raw) == nil {
			t.Errorf("the JSON Schema accepts an empty name: %s", raw)
		}
		if _, err := MarshalIncident(x); err == nil || !strings.Contains(err.Error(), "empty name") {
			t.Errorf("MarshalIncident of %s: %v, want an empty name refused", raw, err)
		}
	}
}
