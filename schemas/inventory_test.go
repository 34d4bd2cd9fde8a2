package schemas

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const inventoryFile = `version: 1
devices:
  - {name: spine1, site: fra1, role: spine, vendor: arista, model: 7280R3}
  - name: leaf1
    site: fra1
    role: leaf
    rack: r12
    tags: [prod]
  - {name: spine1, site: ams1}
links:
  - a: {device: spine1, interface: Ethernet3}
    b: {device: leaf1, interface: Ethernet1}
  - a: {device: spine1, interface: Ethernet4}
    b: {device: leaf9, interface: Ethernet1}
sessions:
  - {device: leaf1, protocol: bgp, neighbor: 10.0.0.0, interface: Ethernet1, peer_device: spine1}
  - {device: leaf1, protocol: ospf, neighbor: 10.0.0.0}
`

// TestParseInventoryYAML checks that an unknown field, a duplicate device,
// a link to an unknown device and a bad session each give one line naming
// the file, the line and the problem, and that the rest loads.
func TestParseInventoryYAML(t *testing.T) {
	inv, problems := ParseInventoryYAML("inv.yaml", []byte(inventoryFile))
	want := []string{
		`inv.yaml:7: devices[1]: unknown field "rack"`,
		`inv.yaml:9: devices[2]: device "spine1" is listed twice; skipped`,
		`inv.yaml:13: links[1]: b.device "leaf9" is not a device of the inventory; skipped`,
		`inv.yaml:17: sessions[1]: protocol "ospf" is neither "bgp" nor "bfd"; skipped`,
	}
	if len(problems) != len(want) {
		t.Fatalf("got %d problems, want %d: %v", len(problems), len(want), problems)
	}
	for i, p := range problems {
		if !strings.HasPrefix(p.Error(), want[i]) || strings.Contains(p.Error(), "\n") {
			t.Errorf("problem %d = %q, want a line starting %q", i, p.Error(), want[i])
		}
	}
	if len(inv.Devices) != 2 || inv.Devices[0].Site != "fra1" || inv.Devices[1].Name != "leaf1" || !reflect.DeepEqual(inv.Devices[1].Tags, []string{"prod"}) {
		t.Errorf("devices = %+v", inv.Devices)
	}
	if len(inv.Links) != 1 || len(inv.Sessions) != 1 {
		t.Errorf("links %+v sessions %+v, want 1 each", inv.Links, inv.Sessions)
	}
	if err := inv.Validate(); err != nil {
		t.Errorf("the loaded part does not validate: %v", err)
	}
	x := inv.Index()
	if p, ok := x.Peer(Port{"leaf1", "Ethernet1"}); !ok || p != (Port{"spine1", "Ethernet3"}) {
		t.Errorf("peer of leaf1:Ethernet1 = %v %v", p, ok)
	}
	if s, ok := x.Session("leaf1", "10.0.0.0"); !ok || s.Interface != "Ethernet1" || s.PeerDevice != "spine1" {
		t.Errorf("session = %+v %v", s, ok)
	}
	if _, ok := x.Device("leaf9"); ok {
		t.Error("leaf9 is known")
	}
}

func TestParseInventoryYAMLBad(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, problems := ParseInventoryYAML("f.yaml", []byte(in))
		if len(problems) != 1 || !strings.Contains(problems[0].Error(), want) {
			t.Errorf("%q: problems %v, want one containing %q", in, problems, want)
		}
	}
	f("devices: [", "f.yaml:1: cannot parse inventory")
	f("- a\n- b\n", "f.yaml:1: cannot load inventory")
	f("devices: {}\n", "f.yaml:1: devices: not a list")
	f("hosts: []\n", `f.yaml:1: inventory: unknown field "hosts"`)
	f("version: 2\n", "f.yaml:1: inventory version 2 is not supported")
	f("devices:\n  - {name: [a]}\n", "f.yaml:2: devices[0]: cannot decode")
	f("devices:\n  - {site: x}\n", "f.yaml:2: devices[0]: name is empty")
}

func TestInventoryJSONRoundTrip(t *testing.T) {
	inv, _ := ParseInventoryYAML("inv.yaml", []byte(inventoryFile))
	b, err := MarshalInventory(inv)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil || raw["version"] != 1.0 {
		t.Fatalf("%s: %v", b, err)
	}
	back, err := UnmarshalInventory(b)
	if err != nil {
		t.Fatal(err)
	}
	inv.Devices[0].Tags = []string{}
	if !reflect.DeepEqual(back, inv) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, inv)
	}
	if _, err := UnmarshalInventory([]byte(`{"version":2,"devices":[],"links":[],"sessions":[]}`)); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("version 2: %v", err)
	}
	if _, err := MarshalInventory(&Inventory{Version: 1, Links: []InvLink{{A: Port{"x", "e1"}, B: Port{"y", "e1"}}}}); err == nil ||
		!strings.Contains(err.Error(), `links[0]: a.device "x" is not a device`) {
		t.Errorf("link to an unknown device: %v", err)
	}
	var schema map[string]any
	if err := json.Unmarshal(InventorySchemaJSON(), &schema); err != nil {
		t.Fatal(err)
	}
	checkSchemaFields(t, schema, raw)
}

// checkSchemaFields checks that the schema requires exactly the top-level
// fields an encoded message has.
func checkSchemaFields(t *testing.T, schema, msg map[string]any) {
	t.Helper()
	props := schema["properties"].(map[string]any)
	for k := range msg {
		if _, ok := props[k]; !ok {
			t.Errorf("field %q is not in the schema", k)
		}
	}
	for _, k := range schema["required"].([]any) {
		if _, ok := msg[k.(string)]; !ok {
			t.Errorf("required field %q is not in the message", k)
		}
	}
}

func TestIncidentJSON(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	in := &Incident{Version: IncidentVersion, ID: "abc", State: IncidentOpen, OpenedAt: t0, UpdatedAt: t0, Severity: SeverityCritical,
		Rule: RuleLink, Cause: "link a:e1 — b:e2 down", Confidence: 0.9, Action: "check the optic",
		Entities: []Entity{{Kind: EntityInterface, Device: "a", Name: "e1", PeerDevice: "b", PeerInterface: "e2"}},
		Evidence: []Evidence{{Time: t0, Role: EvidenceMember, DetectionID: "d1", State: StateFiring, Device: "a", Severity: SeverityCritical}}}
	b, err := MarshalIncident(in)
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalIncident(b)
	if err != nil || !reflect.DeepEqual(back, in) {
		t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, back, in)
	}
	var raw, schema map[string]any
	_ = json.Unmarshal(b, &raw)
	if err := json.Unmarshal(IncidentSchemaJSON(), &schema); err != nil {
		t.Fatal(err)
	}
	raw["resolvedAt"] = "x" // optional: checked for presence in properties
	checkSchemaFields(t, schema, raw)
	bad := *in
	bad.State = IncidentResolved
	if _, err := MarshalIncident(&bad); err == nil || !strings.Contains(err.Error(), "resolvedAt") {
		t.Errorf("resolved without resolvedAt: %v", err)
	}
	if _, err := UnmarshalIncident([]byte(`{"version":7}`)); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("version 7: %v", err)
	}
}

// TestParseInventoryCSV checks the CSV device list: an unknown column, a
// duplicate device and a short line each give one FILE:LINE line, and the
// rest loads.
func TestParseInventoryCSV(t *testing.T) {
	in := "name,site,role,rack,tags\nspine1,fra1,spine,r1,\nleaf1,fra1,leaf,r2,prod;edge\nspine1,ams1,spine,r3,\nleaf2,fra1\n"
	inv, problems := ParseInventoryCSV("inv.csv", []byte(in))
	want := []string{
		`inv.csv:1: header: unknown column "rack"`,
		`inv.csv:4: device "spine1" is listed twice; skipped`,
		`inv.csv:5: 2 fields, the header has 5; skipped`,
	}
	if len(problems) != len(want) {
		t.Fatalf("problems %v, want %d", problems, len(want))
	}
	for i, p := range problems {
		if !strings.HasPrefix(p.Error(), want[i]) {
			t.Errorf("problem %d = %q, want a line starting %q", i, p.Error(), want[i])
		}
	}
	if len(inv.Devices) != 2 || inv.Devices[0].Site != "fra1" || !reflect.DeepEqual(inv.Devices[1].Tags, []string{"prod", "edge"}) {
		t.Errorf("devices %+v", inv.Devices)
	}
	if inv, problems := ParseInventoryCSV("q.csv", []byte("name\n\"a\"b\nleaf3\n")); len(problems) != 1 || len(inv.Devices) != 1 ||
		!strings.HasPrefix(problems[0].Error(), "q.csv:2: cannot parse line") {
		t.Errorf("bad quote: %v %+v", problems, inv.Devices)
	}
	if _, problems := ParseInventoryCSV("x.csv", []byte("site\nfra1\n")); len(problems) != 1 || !strings.Contains(problems[0].Error(), "x.csv:1: header: no name column") {
		t.Errorf("no name column: %v", problems)
	}
}
