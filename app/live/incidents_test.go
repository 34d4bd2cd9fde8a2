package live

import (
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

func incident(id, state string, opened time.Time, evidence ...schemas.Evidence) *schemas.Incident {
	in := &schemas.Incident{Version: schemas.IncidentVersion, ID: id, State: state, OpenedAt: opened, UpdatedAt: opened.Add(time.Minute),
		Severity: schemas.SeverityCritical, Rule: schemas.RuleLink, Cause: "link sim-00:Ethernet5 — sim-05:Ethernet1 down",
		Entities: []schemas.Entity{{Kind: schemas.EntityDevice, Device: "sim-05"}, {Kind: schemas.EntityInterface, Device: "sim-05", Name: "Ethernet1", PeerDevice: "sim-00", PeerInterface: "Ethernet5"},
			{Kind: schemas.EntityDevice, Device: "sim-00"}, {Kind: schemas.EntityInterface, Device: "sim-00", Name: "Ethernet5", PeerDevice: "sim-05", PeerInterface: "Ethernet1"}},
		Evidence: evidence}
	if state == schemas.IncidentResolved {
		at := opened.Add(time.Hour)
		in.ResolvedAt, in.UpdatedAt = &at, at
	}
	return in
}

// TestStateIncidents checks that each incident id counts once however
// often it is updated, that the latest update replaces the earlier, that
// members and effects count distinct series, that open incidents come
// first (newest first) and resolved ones after, and that the rules are
// counted.
func TestStateIncidents(t *testing.T) {
	s := NewState()
	m1 := schemas.Evidence{Role: schemas.EvidenceMember, Fingerprint: "a", State: schemas.StateFiring}
	m1r := schemas.Evidence{Role: schemas.EvidenceMember, Fingerprint: "a", State: schemas.StateResolved}
	m2 := schemas.Evidence{Role: schemas.EvidenceMember, Fingerprint: "b", State: schemas.StateFiring}
	eff := schemas.Evidence{Role: schemas.EvidenceEffect, Fingerprint: "c", State: schemas.StateFiring}
	first := incident("i1", schemas.IncidentOpen, t0, m1)
	first.Rule = schemas.RuleSession // the first symptom alone: a session reset, until the link's own detection joins
	s.AddIncident(first)
	s.AddIncident(incident("i1", schemas.IncidentOpen, t0, m1, m2, eff))
	traffic := incident("i2", schemas.IncidentOpen, t0.Add(time.Minute), m1)
	traffic.Rule, traffic.Cause = schemas.RuleTraffic, "traffic on sim-03 Ethernet3"
	traffic.Entities = []schemas.Entity{{Kind: schemas.EntityDevice, Device: "sim-03"}, {Kind: schemas.EntityInterface, Device: "sim-03", Name: "Ethernet3"}}
	s.AddIncident(traffic)
	snap := s.Snapshot()
	if snap.Counts.Incidents != 2 || snap.Counts.OpenIncidents != 2 || len(snap.Incidents) != 2 {
		t.Fatalf("counts %+v, incidents %+v", snap.Counts, snap.Incidents)
	}
	if got := snap.Incidents[0]; got.ID != "i2" || got.Entity != "sim-03 Ethernet3" || got.Members != 1 {
		t.Errorf("newest open incident %+v", got)
	}
	if got := snap.Incidents[1]; got.Entity != "sim-05 Ethernet1 ↔ sim-00 Ethernet5" || got.Members != 2 || got.Effects != 1 || !got.Open {
		t.Errorf("link incident %+v", got)
	}
	s.AddIncident(incident("i1", schemas.IncidentResolved, t0, m1, m2, eff, m1r))
	snap = s.Snapshot()
	if snap.Counts.Incidents != 2 || snap.Counts.OpenIncidents != 1 || len(snap.Incidents) != 2 || snap.Incidents[1].Open ||
		!snap.Incidents[1].Resolved.Equal(t0.Add(time.Hour)) || snap.Incidents[1].Members != 2 {
		t.Fatalf("after resolving: counts %+v, incidents %+v", snap.Counts, snap.Incidents)
	}
	if r := snap.Counts.IncidentRules; len(r) != 2 || r[0] != schemas.RuleLink || r[1] != schemas.RuleTraffic {
		t.Errorf("rules %v", r)
	}
	if !snap.DeviceTime.Equal(t0.Add(time.Hour)) {
		t.Errorf("device time %v", snap.DeviceTime)
	}
	if snap.Incidents[0].AtLeast || snap.Incidents[1].AtLeast {
		t.Errorf("counts of fully listed incidents marked as lower bounds: %+v", snap.Incidents)
	}
	// An update that leaves evidence out: its counts are lower bounds.
	long := incident("i2", schemas.IncidentOpen, t0.Add(time.Minute), m1, m2)
	long.EvidenceOmitted = 7
	s.AddIncident(long)
	if got := s.Snapshot().Incidents[0]; got.ID != "i2" || got.Members != 2 || !got.AtLeast {
		t.Errorf("incident with omitted evidence %+v, want 2 members at least", got)
	}
}

// TestStateMergedIncident: a session incident opened by a leaf's
// established-neighbours count a moment before its link's state arrived is
// merged into the link's incident; the update that merges it takes it out
// of the counts, the list and the rules (the run's summary listed a
// "session" rule for it beside the link), and a merge of an incident never
// seen counts nothing.
func TestStateMergedIncident(t *testing.T) {
	s := NewState()
	m1 := schemas.Evidence{Role: schemas.EvidenceMember, Fingerprint: "a", State: schemas.StateFiring}
	m2 := schemas.Evidence{Role: schemas.EvidenceMember, Fingerprint: "b", State: schemas.StateFiring}
	session := incident("s1", schemas.IncidentOpen, t0, m1)
	session.Rule, session.Cause = schemas.RuleSession, "BGP/BFD session reset on sim-05 with no link event"
	s.AddIncident(session)
	s.AddIncident(incident("l1", schemas.IncidentOpen, t0, m2))
	merged := incident("s1", schemas.IncidentResolved, t0, m1)
	merged.Rule, merged.MergedInto = schemas.RuleSession, "l1"
	s.AddIncident(merged)
	unseen := incident("s2", schemas.IncidentResolved, t0, m1)
	unseen.Rule, unseen.MergedInto = schemas.RuleSession, "l1"
	s.AddIncident(unseen)
	snap := s.Snapshot()
	if snap.Counts.Incidents != 1 || snap.Counts.OpenIncidents != 1 || len(snap.Incidents) != 1 || snap.Incidents[0].ID != "l1" {
		t.Errorf("counts %+v, incidents %+v; want the link's incident alone", snap.Counts, snap.Incidents)
	}
	if r := snap.Counts.IncidentRules; len(r) != 1 || r[0] != schemas.RuleLink {
		t.Errorf("rules %v, want [link]", r)
	}
}
