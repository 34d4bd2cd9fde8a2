package schemas

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// exampleIncident returns a valid open incident: a BGP session reset on b.
func exampleIncident() *Incident {
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	return &Incident{Version: IncidentVersion, ID: "a1", State: IncidentOpen, OpenedAt: t0, UpdatedAt: t0,
		Severity: SeverityWarning, Rule: RuleSession, Cause: "BGP/BFD session reset on b", Confidence: 0.8,
		Entities: []Entity{{Kind: EntityDevice, Device: "b"}, {Kind: EntitySession, Device: "b", Name: "10.0.0.1"}},
		Evidence: []Evidence{{Time: t0, Role: EvidenceMember, DetectionID: "d1", State: StateFiring, Device: "b", Severity: SeverityWarning}}}
}

// TestIncidentValidateRefusesWhatSchemaRefuses: MarshalIncident (through
// Validate) used to accept an unknown rule, entity kind, evidence role,
// state or severity and an entity without its device, all of which the
// incident JSON Schema rejects. Validate refuses each, naming the field
// and the allowed values, and so does UnmarshalIncident.
func TestIncidentValidateRefusesWhatSchemaRefuses(t *testing.T) {
	s := compileSchema(t, IncidentSchemaJSON(), "urn:telekernel:schema:incident:v1")
	good, err := MarshalIncident(exampleIncident())
	if err != nil {
		t.Fatal(err)
	}
	if err := validateJSON(s, good); err != nil {
		t.Fatalf("schema rejects the example: %v", err)
	}
	f := func(name string, change func(in *Incident), wantText string) {
		t.Run(name, func(t *testing.T) {
			in := exampleIncident()
			change(in)
			raw, err := json.Marshal(in) // past Validate
			if err != nil {
				t.Fatal(err)
			}
			if validateJSON(s, raw) == nil {
				t.Fatalf("the schema accepts it, so Validate should too:\n%s", raw)
			}
			_, err = MarshalIncident(in)
			if err == nil {
				t.Fatal("MarshalIncident accepted what the JSON Schema rejects")
			}
			if !strings.Contains(err.Error(), wantText) {
				t.Errorf("error %q does not say %q", err, wantText)
			}
			if _, err := UnmarshalIncident(raw); err == nil {
				t.Error("UnmarshalIncident accepted it")
			}
		})
	}
	f("unknown rule", func(in *Incident) { in.Rule = "bogus" },
		`rule "bogus" is not link, device, session, hardware, surge, traffic or unexplained`)
	f("empty rule", func(in *Incident) { in.Rule = "" }, `rule ""`)
	f("rule in capitals", func(in *Incident) { in.Rule = "LINK" }, `rule "LINK"`)
	f("unknown entity kind", func(in *Incident) { in.Entities[1].Kind = "router" },
		`entities[1].kind "router" is not device, interface, session or component`)
	f("empty entity kind", func(in *Incident) { in.Entities[0].Kind = "" }, `entities[0].kind ""`)
	f("device entity without device", func(in *Incident) { in.Entities[0].Device = "" }, "entities[0].device is empty")
	f("session entity without device", func(in *Incident) { in.Entities[1].Device = "" }, "entities[1].device is empty")
	f("empty evidence role", func(in *Incident) { in.Evidence[0].Role = "" }, `evidence[0].role "" is not member or effect`)
	f("unknown evidence role", func(in *Incident) { in.Evidence[0].Role = "cause" }, `evidence[0].role "cause"`)
	f("empty evidence state", func(in *Incident) { in.Evidence[0].State = "" }, `evidence[0].state "" is not firing or resolved`)
	f("evidence state in capitals", func(in *Incident) { in.Evidence[0].State = "FIRING" }, `evidence[0].state "FIRING"`)
	f("empty evidence severity", func(in *Incident) { in.Evidence[0].Severity = "" },
		`evidence[0].severity "" is not info, warning or critical`)
	f("unknown evidence severity", func(in *Incident) { in.Evidence[0].Severity = "page" }, `evidence[0].severity "page"`)
	f("bad second evidence", func(in *Incident) {
		in.Evidence = append(in.Evidence, in.Evidence[0])
		in.Evidence[1].Role = "x"
	}, "evidence[1].role")
}

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

// TestIncidentUpdateVersionOrder: every later update of an incident has a
// higher update_version, updates of one updatedAt and state included (late
// evidence older than the latest leaves updatedAt as it was; the
// correlate stage's ce_id tells them apart by the count of members).
func TestIncidentUpdateVersionOrder(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC)
	upd := func(d time.Duration, state string, members int, merged bool) *Incident {
		in := &Incident{ID: "i", State: state, OpenedAt: at, UpdatedAt: at.Add(d), Evidence: make([]Evidence, min(members, 10)), EvidenceOmitted: max(0, members-10)}
		if state == IncidentResolved {
			r := in.UpdatedAt
			in.ResolvedAt = &r
		}
		if merged {
			in.MergedInto = "j"
		}
		return in
	}
	f := func(what string, older, newer *Incident) {
		t.Helper()
		if o, n := IncidentUpdateVersion(older), IncidentUpdateVersion(newer); o >= n {
			t.Errorf("%s: update_version %d, then %d; want higher", what, o, n)
		}
	}
	f("late evidence, one time and state", upd(0, IncidentOpen, 2, false), upd(0, IncidentOpen, 3, false))
	f("late evidence on a resolved incident", upd(0, IncidentResolved, 3, false), upd(0, IncidentResolved, 4, false))
	f("a resolution of the same time", upd(0, IncidentOpen, 3, false), upd(0, IncidentResolved, 3, false))
	f("a reopening of the same time", upd(0, IncidentResolved, 3, false), upd(0, IncidentOpen, 4, false))
	f("merged into another", upd(0, IncidentResolved, 3, false), upd(0, IncidentResolved, 3, true))
	f("a member 1 ns later", upd(0, IncidentOpen, 3, false), upd(time.Nanosecond, IncidentOpen, 4, false))
	f("a later time", upd(0, IncidentResolved, 30, true), upd(time.Millisecond, IncidentOpen, 30, false))
	f("many members", upd(0, IncidentOpen, 262_142, false), upd(0, IncidentOpen, 262_143, false))
	// An earlier build's version (ns × 2, + 1 once resolved; then ms, 19
	// bits of members, 2 flags) of the same time is lower: rows written
	// after an upgrade outrank its rows.
	old := upd(time.Minute, IncidentResolved, 3, false)
	f("after an upgrade", &Incident{}, old)
	if v := uint64(old.UpdatedAt.UnixNano())*2 + 1; v >= IncidentUpdateVersion(old) {
		t.Errorf("an earlier build's version %d is not below this build's %d", v, IncidentUpdateVersion(old))
	}
	if v := uint64(old.UpdatedAt.UnixMilli())<<21 | (1<<19-1)<<2 | 3; v >= IncidentUpdateVersion(old) {
		t.Errorf("the ms-first version %d of an earlier build is not below this build's %d", v, IncidentUpdateVersion(old))
	}
	for _, in := range []*Incident{upd(0, IncidentResolved, 1<<30, true), {UpdatedAt: time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC), State: IncidentResolved}} {
		if v := IncidentUpdateVersion(in); v >= 1<<63 {
			t.Errorf("update_version %d of %v with %d members: not below 2^63", v, in.UpdatedAt, len(in.Evidence)+in.EvidenceOmitted)
		}
	}
	if v := IncidentUpdateVersion(&Incident{UpdatedAt: time.Unix(-5, 0)}); v != 1<<62 {
		t.Errorf("update_version of a time before 1970: %d, want 2^62", v)
	}
}

// TestIncidentReopenOutranksResolution: an incident resolved later than
// its latest evidence (the correlate engine's stale_after closes it at
// that evidence plus StaleAfter; an inventory that drops its device, at
// the detection's time) reopens with evidence older than that resolution:
// the reopening's UpdatedAt (its latest evidence) is before the
// resolution's ResolvedAt. Its update_version must still be higher, or
// ReplacingMergeTree and FINAL keep the resolution and read the incident
// resolved while it is open. A reopening adds a member.
func TestIncidentReopenOutranksResolution(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	ev := func(n int) []Evidence { return make([]Evidence, n) }
	open := &Incident{ID: "i", State: IncidentOpen, OpenedAt: at, UpdatedAt: at, Evidence: ev(3)}
	resolvedAt := at.Add(time.Hour) // stale_after 1h
	resolved := &Incident{ID: "i", State: IncidentResolved, OpenedAt: at, UpdatedAt: at, ResolvedAt: &resolvedAt, Evidence: ev(3)}
	reopened := &Incident{ID: "i", State: IncidentOpen, OpenedAt: at, UpdatedAt: at.Add(10 * time.Minute), Evidence: ev(4)}
	vo, vr, vre := IncidentUpdateVersion(open), IncidentUpdateVersion(resolved), IncidentUpdateVersion(reopened)
	t.Logf("open %d, resolved %d, reopened %d", vo, vr, vre)
	if vr <= vo {
		t.Errorf("the resolution's update_version %d is not above the open update's %d", vr, vo)
	}
	if vre <= vr {
		t.Errorf("the reopening's update_version %d is not above the resolution's %d: FINAL reads the incident resolved", vre, vr)
	}
	// Resolved again by its next stale close, later still.
	again := at.Add(70 * time.Minute)
	reresolved := &Incident{ID: "i", State: IncidentResolved, OpenedAt: at, UpdatedAt: reopened.UpdatedAt, ResolvedAt: &again, Evidence: ev(4)}
	if v := IncidentUpdateVersion(reresolved); v <= vre {
		t.Errorf("the second resolution's update_version %d is not above the reopening's %d", v, vre)
	}
}
