package incidents

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

// State record kind tags and versions. The tags sit apart from enc's
// list, beside the power (0x70, 0x72) and maintenance (0x71) records.
// The whole engine in one record (tagEngine) is what the correlate stage
// wrote before its state was one record per incident: version 2 keeps
// every incident's members in (event time, fingerprint) order; version 1
// (arrival order) is still read, its members sorted on restore.
const (
	tagEngine       byte = 0x73
	engineVersion   byte = 2
	tagIncident     byte = 0x74
	incidentVersion byte = 1
	tagMeta         byte = 0x75
	metaVersion     byte = 1
)

// engineState is the serialised state: the incidents held and the count of
// dropped resolutions. The configuration and inventory are not part of it.
type engineState struct {
	Incidents    []*incident `json:"incidents"`
	Dropped      int         `json:"dropped"`
	DroppedStale int         `json:"droppedStale,omitempty"`
	LastSeq      uint64      `json:"lastSeq,omitempty"`
	Clock        int64       `json:"clock,omitempty"`
}

// engineMeta is the state of an engine besides its incidents. A field
// left out when empty is one a build before it ignores.
type engineMeta struct {
	Dropped      int    `json:"dropped"`
	DroppedStale int    `json:"droppedStale,omitempty"`
	LastSeq      uint64 `json:"lastSeq"`
	// Clock is the engine's time (Engine.latest) when the record was
	// written; left out by the builds before it.
	Clock int64 `json:"clock,omitempty"`
}

// MarshalBinary returns the engine's whole state in one record: a kind
// tag, a version byte and the incidents it holds (JSON). A restored engine
// returns what the original would for the same detections.
func (e *Engine) MarshalBinary() ([]byte, error) {
	e.inOrder()
	b, err := json.Marshal(engineState{Incidents: e.incs, Dropped: e.Dropped, DroppedStale: e.DroppedStale, LastSeq: e.lastSeq, Clock: e.latest})
	if err != nil {
		return nil, fmt.Errorf("cannot encode incident state: %w", err)
	}
	return append(enc.AppendHeader(nil, tagEngine, engineVersion), b...), nil
}

// UnmarshalBinary restores state written by MarshalBinary, replacing the
// engine's incidents; the configuration and inventory stay as they are.
// Incidents of a record written before incidents had a Seq are numbered
// in their order. Every incident restored counts as changed for the next
// Changes, so a state read in this form is written again in records.
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
	last := st.LastSeq
	for i, in := range st.Incidents {
		if err := checkIncident(in); err != nil {
			return fmt.Errorf("cannot restore incident state: %w", err)
		}
		if in.Seq == 0 {
			in.Seq = uint64(i) + 1
		}
		last = max(last, in.Seq)
		st.Clock = max(st.Clock, in.Seen)
	}
	e.incs, e.Dropped, e.DroppedStale, e.lastSeq, e.bySeq = st.Incidents, st.Dropped, st.DroppedStale, last, nil
	e.latest = st.Clock
	e.reach, e.expireAt, e.staleAt, e.checkGone, e.openOK = nil, 0, 0, true, false
	clear(e.changed)
	if e.changed == nil {
		e.changed = map[uint64]bool{}
	}
	for _, in := range e.incs {
		e.changed[in.Seq] = true // written again, Seen as it was
	}
	e.metaChanged = true
	return nil
}

// checkIncident reports what makes a restored incident unusable, and gives
// it the empty Firing set JSON leaves nil.
func checkIncident(in *incident) error {
	if in == nil || len(in.Members) == 0 {
		return errors.New("an incident has no members")
	}
	if in.Firing == nil {
		in.Firing = map[string]bool{}
	}
	// The engine keeps members in memberOrder (insert), and describes
	// them in that order; a record from elsewhere is put in it.
	if !slices.IsSortedFunc(in.Members, memberOrder) {
		slices.SortStableFunc(in.Members, memberOrder)
	}
	return nil
}

// Record is one record of an engine's state (see Changes).
type Record struct {
	Key   string
	Value []byte // nil: the key's incident was forgotten
}

// MetaKey is the key of the state record of an engine's counters; the
// other records' keys are IncidentKeyPrefix and an incident's Seq.
const (
	MetaKey           = "meta"
	IncidentKeyPrefix = "incident/"
)

// Changes returns the state records of what changed since the last call
// and forgets it: one per incident opened or changed (its state: a kind
// tag, a version byte and its JSON) or forgotten (nil), by Seq, then the
// engine's counters (MetaKey) when they changed. RestoreRecord of every
// record Changes returned, in order, gives back the engine's state. Each
// record holds one incident, so an engine's state is not bounded by one
// message's size, and a checkpoint writes only what changed.
func (e *Engine) Changes() ([]Record, error) {
	out := make([]Record, 0, len(e.changed)+1)
	for _, seq := range slices.Sorted(maps.Keys(e.changed)) {
		rec := Record{Key: IncidentKeyPrefix + strconv.FormatUint(seq, 10)}
		if i, ok := e.index(seq); ok {
			b, err := json.Marshal(e.incs[i])
			if err != nil {
				return nil, fmt.Errorf("cannot encode incident %s: %w", e.incs[i].ID, err)
			}
			rec.Value = append(enc.AppendHeader(nil, tagIncident, incidentVersion), b...)
		}
		out = append(out, rec)
	}
	if e.metaChanged {
		b, _ := json.Marshal(engineMeta{Dropped: e.Dropped, DroppedStale: e.DroppedStale, LastSeq: e.lastSeq, Clock: e.latest}) // four numbers
		out = append(out, Record{Key: MetaKey, Value: append(enc.AppendHeader(nil, tagMeta, metaVersion), b...)})
	}
	e.MarkWritten()
	return out, nil
}

// MarkWritten forgets the changes Changes would return: the correlate
// stage calls it when a restore meets the deletion of a whole-engine
// record, since the checkpoint that deleted it wrote every incident the
// record held.
func (e *Engine) MarkWritten() {
	clear(e.changed)
	e.metaChanged = false
}

// index finds the incident numbered seq in e.incs (kept by Seq).
func (e *Engine) index(seq uint64) (int, bool) {
	e.inOrder()
	return slices.BinarySearchFunc(e.incs, seq, func(in *incident, s uint64) int { return cmp.Compare(in.Seq, s) })
}

// inOrder puts e.incs back in Seq order after RestoreRecord took records
// out of it (see bySeq).
func (e *Engine) inOrder() {
	if e.bySeq == nil {
		return
	}
	slices.SortFunc(e.incs, func(a, b *incident) int { return cmp.Compare(a.Seq, b.Seq) })
	e.bySeq = nil
}

// restoreAt returns the position of the incident numbered seq in e.incs,
// or where to insert it: as index, or, once a record came out of Seq
// order, at the end (see bySeq).
func (e *Engine) restoreAt(seq uint64) (int, bool) {
	if e.bySeq != nil {
		i, ok := e.bySeq[seq]
		if !ok {
			i = len(e.incs)
		}
		return i, ok
	}
	i, found := e.index(seq)
	if !found && i < len(e.incs) {
		e.bySeq = make(map[uint64]int, len(e.incs)+1)
		for j, in := range e.incs {
			e.bySeq[in.Seq] = j
		}
		i = len(e.incs)
	}
	return i, found
}

// RestoreRecord loads one record returned by Changes: an incident (nil:
// it was forgotten) or the counters.
func (e *Engine) RestoreRecord(key string, value []byte) error {
	if key == MetaKey {
		if value == nil {
			return nil
		}
		var m engineMeta
		if err := decodeRecord(value, tagMeta, metaVersion, &m); err != nil {
			return fmt.Errorf("cannot restore incident state: %s: %w", key, err)
		}
		e.Dropped, e.DroppedStale, e.lastSeq = m.Dropped, m.DroppedStale, max(e.lastSeq, m.LastSeq)
		e.latest = max(e.latest, m.Clock)
		return nil
	}
	// Filed and looked at again at the next detection: the inventory may
	// have lost devices while the state was elsewhere.
	e.reach, e.expireAt, e.staleAt, e.checkGone = nil, 0, 0, true
	seq, err := strconv.ParseUint(strings.TrimPrefix(key, IncidentKeyPrefix), 10, 64)
	if !strings.HasPrefix(key, IncidentKeyPrefix) || err != nil || seq == 0 {
		return fmt.Errorf("cannot restore incident state: key %q is neither %q nor %q and a number", key, MetaKey, IncidentKeyPrefix)
	}
	i, found := e.restoreAt(seq)
	if value == nil {
		if !found {
			return nil
		}
		e.open -= e.incs[i].isOpen() // kept while openOK (OpenCount)
		if e.bySeq == nil {
			e.incs = slices.Delete(e.incs, i, i+1)
			return nil
		}
		last := len(e.incs) - 1
		e.incs[i] = e.incs[last]
		e.bySeq[e.incs[i].Seq] = i
		e.incs[last] = nil
		e.incs = e.incs[:last]
		delete(e.bySeq, seq)
		return nil
	}
	in := new(incident)
	if err := decodeRecord(value, tagIncident, incidentVersion, in); err != nil {
		return fmt.Errorf("cannot restore incident state: %s: %w", key, err)
	}
	if err := checkIncident(in); err != nil {
		return fmt.Errorf("cannot restore incident state: %s: %w", key, err)
	}
	if in.Seq != seq {
		return fmt.Errorf("cannot restore incident state: %s holds incident number %d", key, in.Seq)
	}
	switch {
	case found:
		e.open -= e.incs[i].isOpen()
		e.incs[i] = in
	case e.bySeq != nil:
		e.bySeq[seq] = len(e.incs)
		e.incs = append(e.incs, in)
	default:
		e.incs = slices.Insert(e.incs, i, in)
	}
	e.open += in.isOpen()
	e.lastSeq = max(e.lastSeq, seq)
	e.latest = max(e.latest, in.Seen)
	return nil
}

// decodeRecord decodes a state record of kind tag and version into v.
func decodeRecord(b []byte, tag, version byte, v any) error {
	r := enc.Reader{B: b}
	r.Header(tag, version)
	if r.Err != nil {
		return r.Err
	}
	return json.Unmarshal(r.B, v)
}
