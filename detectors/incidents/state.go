package incidents

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

// State record kind tag and version. The tag sits apart from enc's list,
// beside the power (0x70, 0x72) and maintenance (0x71) records. Version 2
// keeps every incident's members in (event time, fingerprint) order;
// version 1 (arrival order) is still read, its members sorted on restore.
const (
	tagEngine     byte = 0x73
	engineVersion byte = 2
)

// engineState is the serialised state: the incidents held and the count of
// dropped resolutions. The configuration and inventory are not part of it.
type engineState struct {
	Incidents []*incident `json:"incidents"`
	Dropped   int         `json:"dropped"`
}

// MarshalBinary returns the engine's state: a kind tag, a version byte and
// the incidents it holds (JSON). A restored engine returns what the
// original would for the same detections.
func (e *Engine) MarshalBinary() ([]byte, error) {
	b, err := json.Marshal(engineState{Incidents: e.incs, Dropped: e.Dropped})
	if err != nil {
		return nil, fmt.Errorf("cannot encode incident state: %w", err)
	}
	return append(enc.AppendHeader(nil, tagEngine, engineVersion), b...), nil
}

// UnmarshalBinary restores state written by MarshalBinary, replacing the
// engine's incidents; the configuration and inventory stay as they are.
func (e *Engine) UnmarshalBinary(b []byte) error {
	r := enc.Reader{B: b}
	v := engineVersion
	if len(b) >= 2 && b[0] == tagEngine && b[1] == 1 {
		v = 1
	}
	r.Header(tagEngine, v)
	if r.Err != nil {
		return fmt.Errorf("cannot restore incident state: %w", r.Err)
	}
	var st engineState
	if err := json.Unmarshal(r.B, &st); err != nil {
		return fmt.Errorf("cannot restore incident state: %w", err)
	}
	for _, in := range st.Incidents {
		if in == nil || len(in.Members) == 0 {
			return fmt.Errorf("cannot restore incident state: an incident has no members")
		}
		if in.Firing == nil {
			in.Firing = map[string]bool{}
		}
		if v == 1 {
			slices.SortStableFunc(in.Members, memberOrder)
		}
	}
	e.incs, e.Dropped = st.Incidents, st.Dropped
	return nil
}
