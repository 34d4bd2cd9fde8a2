package clickhouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// InsertIncidents validates ins and writes them to the incidents table
// (one row per update) and their evidence to incident_members (one row
// per member detection), returning the number of incident updates
// written. Re-sending the same updates is harmless: incidents keeps the
// highest update_version per id (schemas.IncidentUpdateVersion) and
// incident_members deduplicates on (incident_id, event_time,
// detection_id), so every update repeating the evidence so far collapses.
// The incidents are written first: a failure between the two INSERTs
// leaves members missing until the retry, never a member without its
// incident. It keeps no reference to ins.
func (s *Sink) InsertIncidents(ctx context.Context, ins []schemas.Incident) (int, error) {
	for i := range ins {
		if err := ins[i].Validate(); err != nil {
			return 0, fmt.Errorf("%w: incident %d (id %q): %v", ErrBadInput, i, ins[i].ID, err)
		}
	}
	n, err := s.insertCols(ctx, schemas.TableIncidents, len(ins), func(l schemas.Layout) (cols, error) { return incidentCols(ins, l) })
	if err != nil {
		return 0, err
	}
	ms := incidentMembers(ins)
	if _, err := s.insertCols(ctx, schemas.TableIncidentMembers, len(ms), func(l schemas.Layout) (cols, error) { return memberCols(ms, l) }); err != nil {
		return 0, err
	}
	return n, nil
}

// member is one row of incident_members.
type member struct {
	incident string
	schemas.Evidence
}

// incidentMembers flattens the evidence of ins, in order.
func incidentMembers(ins []schemas.Incident) []member {
	var out []member
	for i := range ins {
		for _, e := range ins[i].Evidence {
			out = append(out, member{incident: ins[i].ID, Evidence: e})
		}
	}
	return out
}

// incidentCols flattens ins into the incidents table columns of layout l.
func incidentCols(ins []schemas.Incident, l schemas.Layout) (cols, error) {
	type I = schemas.Incident
	entities := make([]string, len(ins))
	for i := range ins {
		b, err := json.Marshal(nonNilSlice(ins[i].Entities))
		if err != nil {
			return nil, fmt.Errorf("%w: incident %d (id %q) entities: %v", ErrBadInput, i, ins[i].ID, err)
		}
		entities[i] = string(b)
	}
	c := cols{
		"id":               colOf(ins, func(in *I) string { return in.ID }),
		"version":          colOf(ins, func(in *I) uint8 { return uint8(in.Version) }),
		"update_version":   colOf(ins, schemas.IncidentUpdateVersion),
		"state":            colOf(ins, func(in *I) string { return in.State }),
		"severity":         colOf(ins, func(in *I) string { return in.Severity }),
		"rule":             colOf(ins, func(in *I) string { return in.Rule }),
		"cause":            colOf(ins, func(in *I) string { return in.Cause }),
		"confidence":       colOf(ins, func(in *I) float64 { return in.Confidence }),
		"action":           colOf(ins, func(in *I) string { return in.Action }),
		"devices":          colOf(ins, func(in *I) []string { return entityField(in, in.Devices, entityDevice) }),
		"sites":            colOf(ins, func(in *I) []string { return entityField(in, in.Sites, entitySite) }),
		"members":          colOf(ins, func(in *I) uint32 { return uint32(len(in.Evidence) + in.EvidenceOmitted) }),
		"entities":         entities,
		"merged_into":      colOf(ins, func(in *I) string { return in.MergedInto }),
		"entities_omitted": colOf(ins, func(in *I) uint32 { return uint32(in.EntitiesOmitted) }),
	}
	for _, tc := range []struct {
		name     string
		nullable bool
		get      func(*I) *time.Time
	}{
		{"opened_at", false, func(in *I) *time.Time { return &in.OpenedAt }},
		{"updated_at", false, func(in *I) *time.Time { return &in.UpdatedAt }},
		{"resolved_at", true, func(in *I) *time.Time { return in.ResolvedAt }},
	} {
		if err := setTimes(c, ins, tc.name, l, tc.nullable, false, tc.get); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// memberCols flattens ms into the incident_members columns of layout l.
func memberCols(ms []member, l schemas.Layout) (cols, error) {
	type M = member
	c := cols{
		"incident_id":  colOf(ms, func(m *M) string { return m.incident }),
		"detection_id": colOf(ms, func(m *M) string { return m.DetectionID }),
		"fingerprint":  colOf(ms, func(m *M) string { return m.Fingerprint }),
		"role":         colOf(ms, func(m *M) string { return m.Role }),
		"state":        colOf(ms, func(m *M) string { return m.State }),
		"device":       colOf(ms, func(m *M) string { return m.Device }),
		"metric":       colOf(ms, func(m *M) string { return m.Metric }),
		"keys":         colOf(ms, func(m *M) string { return m.Keys }),
		"detector":     colOf(ms, func(m *M) string { return m.Detector }),
		"severity":     colOf(ms, func(m *M) string { return m.Severity }),
	}
	if err := setTimes(c, ms, "event_time", l, false, false, func(m *M) *time.Time { return &m.Time }); err != nil {
		return nil, err
	}
	return c, nil
}

// entityField returns the distinct non-empty values of f over in's
// entities and of of, sorted: of is the update's Devices or Sites, those
// of every entity when it leaves entities out (a storm's devices past the
// first engine.max_entities listed), nil from builds before them, whose
// rows have the listed entities' only. It sorts them all and drops the
// repeats, next to each other then: an update lists up to
// engine.max_entities (1 000) entities, and checking each value against
// those kept took half a million compares for a storm's thousand
// devices. The result is a copy, so a batch of rows does not hold every
// update's scratch.
func entityField(in *schemas.Incident, of []string, f func(schemas.Entity) string) []string {
	all := make([]string, 0, len(in.Entities)+len(of))
	for _, e := range in.Entities {
		if v := f(e); v != "" {
			all = append(all, v)
		}
	}
	for _, v := range of {
		if v != "" {
			all = append(all, v)
		}
	}
	slices.Sort(all)
	return slices.Clone(slices.Compact(all))
}

func entityDevice(e schemas.Entity) string { return e.Device }
func entitySite(e schemas.Entity) string   { return e.Site }

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// IncidentsStage feeds the incidents and incident_members tables from the
// incidents topic (tk.incidents, v1 JSON in the CloudEvents binding), like
// DetectionsStage does for detections. Tombstones (nil values) of the
// compacted topic are skipped.
type IncidentsStage struct{ rowStage[schemas.Incident] }

var (
	_ pipeline.Sink             = (*IncidentsStage)(nil)
	_ pipeline.PartitionDropper = (*IncidentsStage)(nil)
)

// NewIncidentsStage returns a stage sink that writes incidents to s.
func NewIncidentsStage(s *Sink) *IncidentsStage {
	return &IncidentsStage{rowStage[schemas.Incident]{s: s, table: schemas.TableIncidents,
		decode: decodeIncident,
		check: func(ins []schemas.Incident, l schemas.Layout) error {
			if _, err := incidentCols(ins, l); err != nil {
				return err
			}
			_, err := memberCols(incidentMembers(ins), l)
			return err
		},
		insert: s.InsertIncidents}}
}

// decodeIncident decodes one incidents message; a message that is not an
// incident returns an error wrapping schemas.ErrMalformed (or
// ErrUnknownVersion), which the runner dead-letters.
func decodeIncident(r *kgo.Record) ([]schemas.Incident, error) {
	if r.Value == nil {
		return nil, nil
	}
	in, err := schemas.UnmarshalIncident(r.Value)
	if err != nil {
		if errors.Is(err, schemas.ErrUnknownVersion) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", schemas.ErrMalformed, err)
	}
	return []schemas.Incident{*in}, nil
}
