package live

import (
	"cmp"
	"slices"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// resolvedIncidents bounds the resolved incidents a Snapshot keeps (most
// recently resolved first) after the open ones.
const resolvedIncidents = 20

// Incident is the latest update of one incident of the correlate stage.
type Incident struct {
	ID       string
	Open     bool
	Rule     string // link, device, session, hardware, surge, traffic or unexplained
	Cause    string // the probable cause, for a person: a link incident names both ends
	Severity string
	// Entity is the most specific entity the incident affects, as
	// "device interface" (or "device" alone), with "↔ peer-device
	// peer-interface" when the inventory knows the other end.
	Entity   string
	Opened   time.Time // device time of the first symptom
	Resolved time.Time // zero while open
	// Members are the distinct detections (series) that joined as
	// symptoms, Effects those that joined as consequences (e.g. traffic
	// rerouted to sibling links).
	Members, Effects int
	// AtLeast says Members and Effects count only the evidence the update
	// listed: past the correlate stage's max_evidence it leaves the middle
	// of a long incident out (schemas.Incident.EvidenceOmitted), so the
	// incident may have more.
	AtLeast bool
}

// AddIncident records an update of the incidents topic: each carries the
// whole incident, so the latest replaces what was known of its id. The
// update that merges an incident into another (MergedInto: a leaf's
// established-neighbours count opened a session incident a moment before
// the link state that explains it arrived) takes it out: its evidence
// moved to the survivor, so it is no incident of its own, and its rule is
// not one the run found.
func (s *State) AddIncident(in *schemas.Incident) {
	s.seen(in.UpdatedAt)
	_, known := s.incidents[in.ID]
	if in.MergedInto != "" {
		if known {
			delete(s.incidents, in.ID)
			s.counts.Incidents--
		}
		return
	}
	if !known {
		s.counts.Incidents++
	}
	v := Incident{ID: in.ID, Open: in.State == schemas.IncidentOpen, Rule: in.Rule, Cause: in.Cause, Severity: in.Severity,
		Opened: in.OpenedAt, Entity: entityName(in.Entities)}
	if in.ResolvedAt != nil {
		v.Resolved = *in.ResolvedAt
	}
	members, effects := map[string]bool{}, map[string]bool{}
	for _, e := range in.Evidence {
		if e.Role == schemas.EvidenceEffect {
			effects[e.Fingerprint] = true
		} else {
			members[e.Fingerprint] = true
		}
	}
	v.Members, v.Effects, v.AtLeast = len(members), len(effects), in.EvidenceOmitted > 0
	s.incidents[in.ID] = v
}

// entityName names the most specific of es (the first interface with a
// known peer, else the first interface, component or session, else the
// first device), with its peer when known.
func entityName(es []schemas.Entity) string {
	if len(es) == 0 {
		return ""
	}
	rank := func(e schemas.Entity) int {
		switch {
		case e.Kind == schemas.EntityInterface && e.PeerDevice != "":
			return 3
		case e.Kind == schemas.EntityInterface:
			return 2
		case e.Kind != schemas.EntityDevice:
			return 1
		}
		return 0
	}
	e := es[0]
	for _, x := range es[1:] {
		if rank(x) > rank(e) {
			e = x
		}
	}
	out := join(e.Device, e.Name)
	if e.PeerDevice != "" {
		out += " ↔ " + join(e.PeerDevice, e.PeerInterface)
	}
	return out
}

func join(a, b string) string {
	if b == "" {
		return a
	}
	return a + " " + b
}

// incidentSnapshot fills the incidents of snap: the open ones, newest
// first, then the latest resolved ones, most recently resolved first.
func (s *State) incidentSnapshot(snap *Snapshot) {
	var open, resolved []Incident
	rules := map[string]bool{}
	for _, in := range s.incidents {
		rules[in.Rule] = true // the latest: an update may name another cause
		if in.Open {
			open = append(open, in)
		} else {
			resolved = append(resolved, in)
		}
	}
	slices.SortFunc(open, func(a, b Incident) int { return cmp.Or(b.Opened.Compare(a.Opened), cmp.Compare(a.ID, b.ID)) })
	slices.SortFunc(resolved, func(a, b Incident) int { return cmp.Or(b.Resolved.Compare(a.Resolved), cmp.Compare(a.ID, b.ID)) })
	snap.Counts.OpenIncidents = len(open)
	snap.Counts.IncidentRules = sortedKeys(rules)
	snap.Incidents = append(open[:min(len(open), listLimit)], resolved[:min(len(resolved), resolvedIncidents)]...)
}
