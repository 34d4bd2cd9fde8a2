package schemas

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// IncidentVersion is the version of the incident contract this build
// writes and the only one it reads.
const IncidentVersion = 1

// Incident event type (CloudEvents type) and HeaderSchema value, for the
// tk.incidents topic (compacted by incident id) a later stage publishes.
const (
	IncidentType   = "io.telekernel.incident.v1"
	SchemaIncident = "incident"
)

// Incident states.
const (
	IncidentOpen     = "open"
	IncidentResolved = "resolved"
)

// Incident rules: the rule that names an incident's probable cause.
const (
	RuleLink        = "link"        // a link (both ends, sessions over it, traffic)
	RuleDevice      = "device"      // many interfaces of one device at once
	RuleSession     = "session"     // a BGP/BFD session reset with no link event
	RuleHardware    = "hardware"    // PSU, fan, temperature, optic of one device
	RuleSurge       = "surge"       // ingress rising on ports of a device, no link event
	RuleTraffic     = "traffic"     // other traffic anomalies of one port
	RuleUnexplained = "unexplained" // anything else: one incident, nothing hidden
)

// Incident entity kinds.
const (
	EntityDevice    = "device"
	EntityInterface = "interface"
	EntitySession   = "session"
	EntityComponent = "component"
)

// Evidence roles.
const (
	EvidenceMember = "member" // a symptom of the cause
	EvidenceEffect = "effect" // a consequence, e.g. traffic rerouted to sibling uplinks
)

// The values the incident JSON Schema's enums allow;
// TestContractEnumsMatchSchemas keeps them equal.
var (
	incidentStates = []string{IncidentOpen, IncidentResolved}
	incidentRules  = []string{RuleLink, RuleDevice, RuleSession, RuleHardware, RuleSurge, RuleTraffic, RuleUnexplained}
	entityKinds    = []string{EntityDevice, EntityInterface, EntitySession, EntityComponent}
	evidenceRoles  = []string{EvidenceMember, EvidenceEffect}
)

//go:embed incident.v1.schema.json
var incidentSchemaJSON []byte

// IncidentSchemaJSON returns the JSON Schema (draft 2020-12) of the
// incident contract, version IncidentVersion. The returned slice is a
// fresh copy.
func IncidentSchemaJSON() []byte { return append([]byte(nil), incidentSchemaJSON...) }

// Entity is something an incident affects. Site and Role come from the
// inventory, empty when it does not know the device.
type Entity struct {
	Kind   string `json:"kind"` // EntityDevice, EntityInterface, EntitySession or EntityComponent
	Device string `json:"device"`
	Name   string `json:"name"` // interface, neighbour address or component; empty for a device
	Site   string `json:"site"`
	Role   string `json:"role"`
	// PeerDevice and PeerInterface are the other end of an interface's
	// link or a session's peer, where known.
	PeerDevice    string `json:"peerDevice"`
	PeerInterface string `json:"peerInterface"`
}

// Evidence is one detection that joined an incident, in time order.
type Evidence struct {
	Time        time.Time `json:"time"` // the detection's event time
	Role        string    `json:"role"` // EvidenceMember or EvidenceEffect
	DetectionID string    `json:"detectionId"`
	Fingerprint string    `json:"fingerprint"`
	State       string    `json:"state"` // the detection's firing or resolved
	Device      string    `json:"device"`
	Metric      string    `json:"metric"`
	Keys        string    `json:"keys"`
	Detector    string    `json:"detector"`
	Severity    string    `json:"severity"`
}

// Incident is one event of the incident contract, version 1: the current
// view of one root cause. Every update carries the whole incident, so the
// compacted topic keeps its latest. The JSON Schema is
// incident.v1.schema.json.
type Incident struct {
	Version int    `json:"version"` // always IncidentVersion
	ID      string `json:"id"`      // stable for the incident's life: its first symptom's series and start
	State   string `json:"state"`   // IncidentOpen or IncidentResolved
	// OpenedAt is the event time of the first symptom; UpdatedAt of the
	// latest evidence; ResolvedAt is set while resolved.
	OpenedAt   time.Time  `json:"openedAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
	ResolvedAt *time.Time `json:"resolvedAt,omitempty"`
	Severity   string     `json:"severity"`
	Rule       string     `json:"rule"`       // one of the Rule constants
	Cause      string     `json:"cause"`      // the probable cause, for a person
	Confidence float64    `json:"confidence"` // of the cause, in [0,1]
	// Action is a suggested next step for a person; never applied.
	Action   string     `json:"action"`
	Entities []Entity   `json:"entities"`
	Evidence []Evidence `json:"evidence"`
	// EvidenceOmitted, when set, is how many member detections Evidence
	// leaves out, between its first and its latest ones: an incident of
	// more than the correlate stage's engine.max_evidence members lists
	// that many (every update carries the whole incident, and a message's
	// size is bounded). Absent otherwise (version 1 readers need not know
	// it; they see the evidence listed).
	EvidenceOmitted int `json:"evidenceOmitted,omitempty"`
	// EntitiesOmitted, when set, is how many entities Entities leaves out
	// after its first ones: an incident naming more than the correlate
	// stage's engine.max_entities entities lists the first that many in
	// the order they are named (a storm of thousands of devices would
	// otherwise outgrow a message). Absent otherwise (version 1 readers
	// need not know it; they see the entities listed).
	EntitiesOmitted int `json:"entitiesOmitted,omitempty"`
	// Devices and Sites, set only with EntitiesOmitted, are the distinct
	// devices and non-empty sites of every entity the incident names,
	// listed or not, sorted: an update lists its first entities only, yet
	// a query for any device of a storm must find its incident. A device
	// costs its name and 3 bytes (a storm of 2 000 leaves adds about
	// 20 KB to an update); past 100 KB of names together (about 3 000
	// devices of 30-character names) an update carries neither, so it
	// still fits a record. Absent otherwise (version 1 readers need not
	// know them), and from builds before them: then only the first
	// entities' devices are known.
	Devices []string `json:"devices,omitempty"`
	Sites   []string `json:"sites,omitempty"`
	// MergedInto, when set, is the id of the incident that absorbed this
	// one: a later detection showed a stronger cause that explains it (a
	// link down explaining a session reset seen first). A merged incident
	// is resolved, its evidence now also in the survivor's, and gets no
	// further updates; readers listing incidents should hide it. Absent
	// on every other update (version 1 readers need not know it).
	MergedInto string `json:"mergedInto,omitempty"`
}

// Validate reports the first field that breaks the contract: it refuses
// what the JSON Schema refuses, and more (resolvedAt only while resolved).
func (in *Incident) Validate() error {
	if err := checkHead("incident", in.Version, IncidentVersion, in.ID); err != nil {
		return err
	}
	switch {
	case !slices.Contains(incidentStates, in.State):
		return notOneOf("incident: state", in.State, incidentStates)
	case in.OpenedAt.IsZero() || in.UpdatedAt.IsZero():
		return errors.New("incident: openedAt or updatedAt is not set")
	case (in.State == IncidentResolved) != (in.ResolvedAt != nil):
		return errors.New("incident: resolvedAt must be set exactly when resolved")
	case !slices.Contains(severities, in.Severity):
		return notOneOf("incident: severity", in.Severity, severities)
	case !slices.Contains(incidentRules, in.Rule):
		return notOneOf("incident: rule", in.Rule, incidentRules)
	case in.Cause == "":
		return errors.New("incident: cause is empty")
	case math.IsNaN(in.Confidence) || in.Confidence < 0 || in.Confidence > 1:
		return fmt.Errorf("incident: confidence %v is outside [0,1]", in.Confidence)
	case len(in.Evidence) == 0:
		return errors.New("incident: no evidence")
	case in.EvidenceOmitted < 0:
		return fmt.Errorf("incident: evidenceOmitted %d is negative", in.EvidenceOmitted)
	case in.EntitiesOmitted < 0:
		return fmt.Errorf("incident: entitiesOmitted %d is negative", in.EntitiesOmitted)
	case slices.Contains(in.Devices, ""):
		return errors.New("incident: devices has an empty name")
	case slices.Contains(in.Sites, ""):
		return errors.New("incident: sites has an empty name")
	case in.MergedInto != "" && (in.State != IncidentResolved || in.MergedInto == in.ID):
		return errors.New("incident: mergedInto is set on an open incident or names the incident itself")
	}
	for i, en := range in.Entities {
		if err := en.validate(i); err != nil {
			return err
		}
	}
	for i, ev := range in.Evidence {
		if err := ev.validate(i); err != nil {
			return err
		}
	}
	return nil
}

// validate reports a field of entities[i] that breaks the contract.
func (en *Entity) validate(i int) error {
	switch {
	case !slices.Contains(entityKinds, en.Kind):
		return notOneOf(fmt.Sprintf("incident: entities[%d].kind", i), en.Kind, entityKinds)
	case en.Device == "":
		return fmt.Errorf("incident: entities[%d].device is empty", i)
	}
	return nil
}

// validate reports a field of evidence[i] that breaks the contract.
func (ev *Evidence) validate(i int) error {
	switch {
	case !slices.Contains(evidenceRoles, ev.Role):
		return notOneOf(fmt.Sprintf("incident: evidence[%d].role", i), ev.Role, evidenceRoles)
	case !slices.Contains(alertStates, ev.State):
		return notOneOf(fmt.Sprintf("incident: evidence[%d].state", i), ev.State, alertStates)
	case !slices.Contains(severities, ev.Severity):
		return notOneOf(fmt.Sprintf("incident: evidence[%d].severity", i), ev.Severity, severities)
	}
	return nil
}

// MarshalIncident validates in and encodes it as JSON, nil lists as empty
// arrays and times in UTC (see utcPtr).
func MarshalIncident(in *Incident) ([]byte, error) {
	return marshalValid(in, "incident", func() any {
		out := *in
		out.OpenedAt, out.UpdatedAt, out.ResolvedAt = in.OpenedAt.UTC(), in.UpdatedAt.UTC(), utcPtr(in.ResolvedAt)
		out.Entities = nonNil(out.Entities)
		out.Evidence = make([]Evidence, len(in.Evidence))
		for i, ev := range in.Evidence {
			ev.Time = ev.Time.UTC()
			out.Evidence[i] = ev
		}
		return &out
	})
}

// UnmarshalIncident decodes and validates an incident message; an unknown
// version is an error wrapping ErrUnknownVersion.
func UnmarshalIncident(b []byte) (*Incident, error) {
	return unmarshalValid[Incident](b, "incident")
}
