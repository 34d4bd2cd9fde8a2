package detect

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/telekernel/telekernel/detectors/alert"
	"github.com/telekernel/telekernel/detectors/drift"
	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/multivar"
	"github.com/telekernel/telekernel/detectors/rate"
	"github.com/telekernel/telekernel/detectors/stateevents"
	"github.com/telekernel/telekernel/internal/arrowpool"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/detections"
	"github.com/telekernel/telekernel/stages/internal/expiry"
)

type seriesState struct {
	kind    schemas.Kind
	points  uint64 // values scored since the series began
	counter rate.Counter
	// dev is the series' device's place on its partition's clock
	// (expire.go), cached so a sample is placed without a map lookup;
	// set by addSeries, shared by the device's series.
	dev     *expiry.Device
	refresh rate.Refresh         // how often a counter's device refreshes it (a counter with no quiet rule)
	quiet   *quietState          // an error counter's quiet rule (nil for other series)
	drift   *driftState          // an optic power's envelope rule (nil for other series)
	e       *ensemble.Ensemble   // the detectors of a counter rate or gauge (nil for se)
	se      *stateevents.Tracker // the state events of a state series (nil for e)
	iface   *ifaceState          // the interface of an interface's series with keys (stateevents.IsInterface)
	onset   ensemble.Mask        // the members that fired the current (or last) alert
	top     ensemble.Member      // the one with the largest score then
	dirty   bool                 // changed since the last checkpoint
	key     schemas.SeriesKey    // the map key, kept to avoid rebuilding it per row
	linked  bool                 // grp and slot are set (grp nil: in no group)
	grp     *groupState          // the multivariate group it belongs to
	slot    int                  // its place in the group's vector
	lane    uint32               // the series' number in creation order; its updates' lane is lane/laneSeries modulo the lanes (laneOf)
	pg      *peerGroup           // its sibling group, valid while pgGen is the stage's peers.gen
	pgGen   uint64
	pgAt    int  // its index in pg's members at its last reading: a guess, checked (peer.Group.AddAt)
	watched bool // in its partition's watched (a state series whose verdict time alone can change)
}

// groupState is a multivariate group of one device and keys: the latest
// value of each member series, the model and the alert.
type groupState struct {
	group int // index in MultivarConfig.Groups
	ts    []int64
	vals  []float64
	det   *multivar.Detector
	alert alert.State
	held  int32     // vectors kept out of the model in the current incident
	onset []float64 // each series' share of the distance when the alert fired
	dirty bool
	key   schemas.SeriesKey // device, multivarPrefix+name, keys
}

// partState is the state of the series of one input partition: the unit
// that moves between stage instances on a rebalance.
type partState struct {
	id          int32 // the partition
	series      map[schemas.SeriesKey]*seriesState
	dirty       []schemas.SeriesKey
	groups      map[schemas.SeriesKey]*groupState
	dirtyGroups []*groupState
	ifaces      map[schemas.SeriesKey]*ifaceState // by device and interface keys (ifaceKeys); each goes with its last series
	ifacesGen   uint64                            // counts the changes to ifaces' keys (a subinterface's parent is looked up again)
	// watched holds, by device, the state series whose verdict can change
	// with time alone (a flapping alert's quiet period, the grace of a
	// thing enabled again), in key order; rebuilt as series are restored.
	watched map[string][]*seriesState
	exp     expiryState // detect.series_expiry's clock and tombstones (expire.go)
}

// shareKey names the ensemble configuration of a series: its kind and
// metric.
type shareKey struct {
	counter bool
	metric  string
}

// Stage is the detect stage: it decodes sample batches, keeps per-series
// detector state per input partition, and emits detection events. It
// implements Processor, for the exactly-once TransactRunner, which
// checkpoints its state to a compacted changelog topic and restores it on
// another instance after a rebalance. Stage is not safe for concurrent use
// except for the counters (Emitted, Series, StateBytes).
type Stage struct {
	pipeline.SampleDecoder // decodes the samples, counts the rows of good messages dropped
	cfg                    Config
	det                    detections.Builder // to the detection topic
	log                    *slog.Logger
	metrics                *pipeline.Metrics
	quiet                  *rate.Quiet  // the error counters' rule every series starts from
	drift                  *drift.Drift // the optic powers' envelope rule every series starts from
	peers                  peerState    // the sibling rule's groups of fans and PSUs (detect_peer.go)

	parts  map[int32]*partState
	shared map[shareKey]*ensemble.Shared // per kind and metric, built on first use
	inRec  map[uint64]int32              // series of the record being processed, by SeriesIndex: the latest row of it
	period int                           // rows between two of one series in the last record looked up: a guess (seriesOf)
	// kindChanges are the series of the record being processed whose
	// kind changed, in row order (seriesOf, resolved in scoreSerial).
	kindChanges []kindChange
	names       []string       // scratch for detector names
	rows        []*seriesState // scratch: the series of each row of the record
	// stateRows is scratch: the rows of the record that go to state series.
	stateRows []int
	// stateGen counts the changes that may change what an interface's
	// state series say (a state sample, a tick, a series added or
	// removed); from 1, so a new ifaceState remembers nothing
	// (ifaceState.downAt).
	stateGen uint64
	// unknownStates counts state values not understood, by reason.
	unknownStates [3]prometheus.Counter
	// held and shuts count link_downs held for shut_grace, and those a
	// shut then ended unannounced.
	held, shuts prometheus.Counter
	// groupOf maps a metric to its multivariate group and slot.
	groupOf map[string][2]int
	// groupBand is each group's D² at alert.fire_z: the band's upper end.
	groupBand []float64

	// workers is the number of goroutines that score the ensembles of a
	// record of at least minRows rows, and encode a checkpoint of at least
	// minRows records (Config.Workers resolved; parallelMinRows); par is
	// that record's scratch; lanes numbers the series made, to spread them
	// over the workers.
	workers, minRows int
	par              parallel
	lanes            uint32
	ckpt             []ckptItem // scratch of Checkpoint

	nseries    atomic.Int64
	emitted    atomic.Int64
	stateBytes atomic.Int64 // sum of StateBytes over the series held
}

// New returns the detect stage emitting detections to topic.
func New(cfg Config, topic string, m *pipeline.Metrics, log *slog.Logger) (*Stage, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	d := &Stage{cfg: cfg, det: detections.Builder{Topic: topic, Source: cfg.Source, Metrics: m, Now: time.Now},
		SampleDecoder: pipeline.SampleDecoder{Mem: arrowpool.New()}, log: log.With("stage", "detect"), metrics: m, parts: map[int32]*partState{}, shared: map[shareKey]*ensemble.Shared{},
		groupOf: map[string][2]int{}}
	d.workers, d.minRows, d.stateGen = cfg.workerCount(), parallelMinRows, 1
	d.par.keep = func(r *kgo.Record) { d.par.held, d.par.heldAt = append(d.par.held, r), append(d.par.heldAt, d.par.seq) }
	for _, r := range []stateevents.Reason{stateevents.ReasonUnknownValue, stateevents.ReasonIndeterminate} {
		d.unknownStates[r] = m.UnknownStates(r.String())
	}
	d.held, d.shuts = m.LinkDownHolds("held"), m.LinkDownHolds("shut")
	for gi, g := range cfg.Multivar.Groups {
		for slot, mt := range g.Metrics {
			d.groupOf[mt] = [2]int{gi, slot}
		}
		// The distance whose chi-squared tail is the normal tail at fire_z.
		tail := distuv.UnitNormal.Survival(cfg.Multivar.Alert.FireZ)
		d.groupBand = append(d.groupBand, distuv.ChiSquared{K: float64(len(g.Metrics))}.Quantile(1-tail))
	}
	q, err := rate.NewQuiet(cfg.Rules.Quiet)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	d.quiet = q
	if d.drift, err = drift.New(cfg.Rules.Drift); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	if err := d.initPeer(cfg.Rules.Peer); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	return d, nil
}

var (
	_ pipeline.Processor          = (*Stage)(nil)
	_ pipeline.TransactionCadence = (*Stage)(nil)
	_ pipeline.Holder             = (*Stage)(nil)
)

// Transaction implements pipeline.TransactionCadence: detect.transaction.
func (d *Stage) Transaction() pipeline.TransactionConfig { return d.cfg.Transaction }

func (d *Stage) part(p int32) *partState {
	ps := d.parts[p]
	if ps == nil {
		ps = &partState{id: p, series: map[schemas.SeriesKey]*seriesState{}, groups: map[schemas.SeriesKey]*groupState{},
			ifaces: map[schemas.SeriesKey]*ifaceState{}}
		ps.exp.devs.Tol, ps.exp.series = expiry.Tolerance(d.cfg.SeriesExpiry), map[string][]*seriesState{}
		d.parts[p] = ps
	}
	return ps
}

// link finds (or makes) the multivariate group of st.
func (d *Stage) link(ps *partState, st *seriesState) {
	st.linked = true
	gs, ok := d.groupOf[st.key.Metric]
	if !ok {
		return
	}
	g := &d.cfg.Multivar.Groups[gs[0]]
	k := schemas.SeriesKey{Device: st.key.Device, Metric: multivarPrefix + g.Name, Keys: st.key.Keys}
	grp := ps.groups[k]
	if grp == nil {
		grp = d.newGroup(gs[0])
		grp.key = k
		d.putGroup(ps, grp)
	}
	st.grp, st.slot = grp, gs[1]
}

// putGroup puts g in ps under g.key, counting its state bytes.
func (d *Stage) putGroup(ps *partState, g *groupState) {
	d.dropGroup(ps, g.key)
	ps.groups[g.key] = g
	d.stateBytes.Add(int64(g.det.StateBytes() + 24*len(g.ts)))
}

func (d *Stage) dropGroup(ps *partState, k schemas.SeriesKey) {
	if old := ps.groups[k]; old != nil {
		d.stateBytes.Add(-int64(old.det.StateBytes() + 24*len(old.ts)))
		delete(ps.groups, k)
	}
}

func (d *Stage) newGroup(gi int) *groupState {
	n := len(d.cfg.Multivar.Groups[gi].Metrics)
	det, _ := multivar.New(d.cfg.Multivar.Detector, n) // validated in New
	g := &groupState{group: gi, ts: make([]int64, n), vals: make([]float64, n), onset: make([]float64, n), det: det}
	for i := range g.ts {
		g.ts[i] = math.MinInt64
	}
	return g
}

// updateGroup records x at ts in st's slot and, once every series of the
// group has a value at ts, scores the vector. A value the ensemble ignores
// (not finite, or beyond ensemble.MaxValue) makes no vector, and a vector
// at fire_z or beyond is kept out of the model until its run fires (the
// hold then keeps the incident out): one off the model that fires
// nothing, a reading of 0 or an absurd one, would widen its covariance by
// its square, and blind it for hours (MaxFloat64 for good).
func (d *Stage) updateGroup(ps *partState, st *seriesState, ts int64, x float64, emit func(*kgo.Record)) error {
	if !(math.Abs(x) <= ensemble.MaxValue) {
		return nil
	}
	g := st.grp
	g.ts[st.slot], g.vals[st.slot] = ts, x
	if !g.dirty {
		g.dirty = true
		ps.dirtyGroups = append(ps.dirtyGroups, g)
	}
	for _, t := range g.ts {
		if t != ts {
			return nil
		}
	}
	s, err := g.det.Score(g.vals)
	for i := range g.ts {
		g.ts[i] = math.MinInt64 // a vector is scored once
	}
	if err != nil {
		return nil
	}
	switch {
	case g.alert.Firing && s.Z >= d.cfg.Multivar.Alert.ResolveZ && int(g.held) < d.cfg.Multivar.Hold:
		// Keep the incident out of the model, as for the ensemble's
		// baselines (MultivarConfig.Hold).
		g.held++
	case !g.alert.Firing && s.WarmedUp && s.Z >= d.cfg.Multivar.Alert.FireZ:
		// A run off the model that is no incident yet: kept out too.
	default:
		_ = g.det.Add(g.vals) // checked by Score
	}
	if !s.WarmedUp {
		return nil
	}
	startedAt := g.alert.StartsAt
	switch g.alert.Update(&d.cfg.Multivar.Alert, ts, s.Z) {
	case alert.Fired:
		// The firing event's shares explain the incident; the resolved
		// event repeats them.
		pos := 0.0
		for _, c := range s.Contrib {
			pos += max(c, 0)
		}
		for i, c := range s.Contrib {
			g.onset[i] = 0
			if c > 0 && pos > 0 {
				g.onset[i] = min(c/pos, 1)
			}
		}
		return d.emitGroup(emit, g, detections.Transition{Series: g.key, Firing: true, TS: ts, StartsAt: g.alert.StartsAt}, &s, "")
	case alert.Resolved:
		g.held = 0
		return d.emitGroup(emit, g, detections.Transition{Series: g.key, TS: ts, StartsAt: startedAt}, &s, "")
	}
	return nil
}

// ensembleOf returns the shared ensemble configuration of a series.
func (d *Stage) ensembleOf(kind schemas.Kind, metric string) (*ensemble.Shared, error) {
	k := shareKey{counter: kind == schemas.KindCounter, metric: metric}
	if sh := d.shared[k]; sh != nil {
		return sh, nil
	}
	sh, err := ensemble.NewShared(d.cfg.EnsembleConfig(metric, k.counter))
	if err != nil {
		return nil, fmt.Errorf("detect: %s: %w", metric, err)
	}
	k.metric = strings.Clone(metric)
	d.shared[k] = sh
	return sh, nil
}

// addSeries puts st in ps under k, links it to its interface and its
// device (a new device's first sample places it: expiry.Devices.Place)
// and counts it.
func (d *Stage) addSeries(ps *partState, k schemas.SeriesKey, st *seriesState) {
	d.stateGen++ // its interface may gain a state series
	old := ps.series[k]
	if old != nil {
		d.stateBytes.Add(-int64(old.stateBytes()))
		unlinkIface(ps, old)
		unwatch(ps, old)
	} else {
		d.nseries.Add(1)
	}
	st.dev = ps.exp.devs.Get(k.Device)
	st.key, st.lane = k, d.lanes
	d.lanes++
	ps.series[k] = st
	ps.exp.addSeries(st, old)
	linkIface(ps, st)
	d.stateBytes.Add(int64(st.stateBytes()))
	if st.se != nil {
		d.watch(ps, st)
		if f := st.iface; f != nil {
			for _, o := range f.opers {
				if o != st {
					d.watch(ps, o) // its Due reads the interface's admin-status
				}
			}
		}
	}
}

func (d *Stage) removeSeries(ps *partState, k schemas.SeriesKey) {
	d.stateGen++ // its interface may lose a state series
	if old := ps.series[k]; old != nil {
		d.stateBytes.Add(-int64(old.stateBytes()))
		unlinkIface(ps, old)
		unwatch(ps, old)
		d.nseries.Add(-1)
		delete(ps.series, k)
		ps.exp.removeSeries(old)
	}
}

// stateBytes returns the memory of the series' detector state.
func (st *seriesState) stateBytes() int {
	if st.se != nil {
		return st.se.StateBytes()
	}
	n := st.e.StateBytes()
	if st.quiet != nil {
		n += quietStateBytes
	}
	if st.drift != nil {
		n += driftStateBytes
	}
	return n
}

// seriesOverhead approximates the memory of a series beyond its detector
// state: seriesState itself (280 bytes on 64-bit, the counter's rate and
// refresh state among them; 272 before it cached its device's place on
// the partition's clock, 248 before the refresh state kept a rate and a
// pending decrease), its map entry (the key and the pointer) and about
// 64 bytes of key strings not shared with the device's other series.
// It was a flat 200 until 2026-12-05, less than seriesState alone.
const seriesOverhead = int64(unsafe.Sizeof(seriesState{})+unsafe.Sizeof(schemas.SeriesKey{})+unsafe.Sizeof(&seriesState{})) + 64

// StateBytes returns the approximate memory of all series' state: the
// detectors' StateBytes plus seriesOverhead per series, and the
// multivariate groups' models and latest values. Safe for concurrent use.
func (d *Stage) StateBytes() int64 {
	return d.stateBytes.Load() + seriesOverhead*d.nseries.Load()
}

// slabBytes is the size of a checkpoint slab: room for about a hundred
// series' records.
const slabBytes = 256 << 10

// slab hands out byte slices cut from large buffers, so a checkpoint of
// many series makes a few allocations instead of one growing slice per key
// and value. A slice handed out is never written again (the producer holds
// it until the record is sent); a full slab is left to the records that
// use it and a new one started.
type slab struct{ buf []byte }

// cut appends with enc to the slab and returns what it appended, capped so
// an append to it cannot reach the next slice.
func (s *slab) cut(enc func([]byte) []byte) []byte {
	if cap(s.buf)-len(s.buf) < slabBytes/16 {
		s.buf = make([]byte, 0, slabBytes)
	}
	start := len(s.buf)
	s.buf = enc(s.buf)
	// An encoding larger than the room left moved s.buf to a new array:
	// the slice is still whole (append copied what came before).
	return s.buf[start:len(s.buf):len(s.buf)]
}

// Restore implements Processor. A record of an unknown state version is
// skipped with a warning: that series starts cold. A device's offset
// (offsetKey) may come before or after its series; a changelog written
// before the offsets has none: its devices are at offset 0.
func (d *Stage) Restore(partition int32, key, value []byte) error {
	d.wait()
	k, err := pipeline.ParseStateKey(key)
	if err != nil {
		return err
	}
	if k.Device == "" && k.Metric == offsetMetric {
		ps := d.part(partition)
		ps.exp.restored = true
		if err := ps.exp.devs.RestoreOffset(k.Keys, value); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		return nil
	}
	if k.Device == "" || k.Metric == "" {
		// A series of rows the stages now drop (schemas.DropBadName):
		// nothing would update it again.
		d.log.Warn("changelog record of a series without a device or metric; dropped", "series", k.String())
		return nil
	}
	if strings.HasPrefix(k.Metric, peerPrefix) {
		return d.restorePeer(partition, k, value)
	}
	ps := d.part(partition)
	if strings.HasPrefix(k.Metric, multivarPrefix) {
		return d.restoreGroup(ps, k, value)
	}
	ps.exp.restored = true // the clock is read back before the next record
	if value == nil {      // a tombstone
		d.removeSeries(ps, k)
		return nil
	}
	st, err := d.decodeState(value, k.Metric)
	if err != nil {
		if errors.Is(err, errStateVersion) || errors.Is(err, errStateConfig) {
			d.log.Warn("cannot restore series state; it starts cold", "series", k.String(), "err", err)
			return nil
		}
		return fmt.Errorf("restore %s: %w", k, err)
	}
	d.addSeries(ps, k, st)
	if st.last() != 0 {
		// Its device was placed (a series with no sample yet leaves a new
		// device's first sample to place it, as in the writer).
		ps.exp.devs.Restored(k.Device)
	}
	return nil
}

// restoreGroup restores (or, for a tombstone, drops) a multivariate group.
// A group no longer configured is skipped with a warning.
func (d *Stage) restoreGroup(ps *partState, k schemas.SeriesKey, value []byte) error {
	if value == nil {
		d.dropGroup(ps, k)
		return nil
	}
	gi := -1
	for i, g := range d.cfg.Multivar.Groups {
		if multivarPrefix+g.Name == k.Metric {
			gi = i
			break
		}
	}
	if gi < 0 {
		d.log.Warn("multivariate group is not configured; its state is dropped", "group", k.String())
		return nil
	}
	g := d.newGroup(gi)
	if err := decodeGroupState(value, g); err != nil {
		if errors.Is(err, errStateVersion) || errors.Is(err, errStateConfig) {
			d.log.Warn("cannot restore multivariate group state; it starts cold", "group", k.String(), "err", err)
			return nil
		}
		return fmt.Errorf("restore %s: %w", k, err)
	}
	g.key = k
	d.putGroup(ps, g)
	// Series restored with it link to it when Process next sees them
	// (restore always starts from a dropped partition).
	return nil
}

// Drop implements Processor.
func (d *Stage) Drop(partition int32) {
	d.wait()
	if ps, ok := d.parts[partition]; ok {
		for k := range ps.series {
			d.removeSeries(ps, k)
		}
		for k := range ps.groups {
			d.dropGroup(ps, k)
		}
		delete(d.parts, partition)
	}
	d.dropPeers(partition)
}

// SeriesStates returns the encoded state of every series held, keyed by
// series, for tests that compare instances.
func (d *Stage) SeriesStates() map[schemas.SeriesKey][]byte {
	d.wait()
	out := map[schemas.SeriesKey][]byte{}
	for _, ps := range d.parts {
		for k, st := range ps.series {
			out[k] = appendState(nil, st)
		}
		for k, g := range ps.groups {
			out[k] = appendGroupState(nil, g)
		}
	}
	d.peerStates(out)
	return out
}

// emit emits the detection of an ensemble alert's transition t on the
// series st at the value x, iface the state of its interface then.
func (d *Stage) emit(emit func(*kgo.Record), st *seriesState, t detections.Transition, x float64, iface *ifaceView, r *ensemble.Result) error {
	det := d.det.New(t, nil)
	d.names = st.onset.Names(d.names[:0])
	cfg := st.e.Shared().Config()
	// A firing detection carries the best score of the points that fired
	// it (the record they broke); a resolved one the calm point's score.
	score := r.Score
	if t.Firing {
		score = r.Peak
	}
	det.Detector, det.Detectors, det.Score = st.top.String(), slices.Clone(d.names), score
	// The incident's severity, on the firing and the resolved event.
	det.Severity = cfg.Severity(r.Peak)
	det.Observed, det.Expected, det.Band = x, r.Expected, schemas.Band{Lower: r.Lower, Upper: r.Upper}
	det.Annotations["description"] = fmt.Sprintf("observed %.6g, expected %.6g in [%.6g, %.6g] (%.1f sigma, score %.3f); fired by %s%s%s",
		x, r.Expected, r.Lower, r.Upper, r.Z, score, strings.Join(d.names, ", "), spacing(st, t), d.explain(iface, t.TS))
	k := t.Series
	d.log.Info("detection", "state", det.State, "device", k.Device, "metric", k.Metric, "keys", k.Keys,
		"event_time", det.EventTime, "observed", x, "expected", r.Expected, "z", r.Z, "score", r.Score,
		"detectors", det.Detectors, "severity", det.Severity)
	return d.det.Send(emit, det)
}

// spacing says, on the firing transition of a density alert, how close
// together the excursions came ("" otherwise).
func spacing(st *seriesState, t detections.Transition) string {
	if !t.Firing || st.top != ensemble.Density {
		return ""
	}
	n, span, record := st.e.Spacing()
	return fmt.Sprintf("; its last %d excursions within %d samples, where %d had been the closest", n, span, record)
}

// emitGroup emits a multivariate detection: observed is the squared
// distance, expected the model's mean distance (the dimension), the band
// [0, distance at fire_z], and the contributors the series' shares of the
// distance (its positive parts) on the point that fired, largest first.
// A resolution without a score (s nil: the group's series expired) is
// described by why.
func (d *Stage) emitGroup(emit func(*kgo.Record), g *groupState, t detections.Transition, s *multivar.Score, why string) error {
	if s == nil {
		s = &multivar.Score{}
	}
	k := g.key
	grp := &d.cfg.Multivar.Groups[g.group]
	cfg := &d.cfg.Multivar.Alert
	var contrib []schemas.Contribution
	for i, share := range g.onset {
		if share > 0 {
			contrib = append(contrib, schemas.Contribution{Metric: grp.Metrics[i], Keys: k.Keys, Share: share})
		}
	}
	slices.SortStableFunc(contrib, func(a, b schemas.Contribution) int { return cmp.Compare(b.Share, a.Share) })
	top := ""
	if len(contrib) > 0 {
		top = fmt.Sprintf("; top contributor %s (%.0f%%)", contrib[0].Metric, 100*contrib[0].Share)
	}
	det := d.det.New(t, nil)
	det.Detector, det.Detectors = "mahalanobis", []string{"mahalanobis"}
	det.Score, det.Severity = alert.Score(cfg, s.Z), alert.Severity(cfg, max(g.alert.Peak, s.Z))
	det.Observed, det.Expected = s.D2, float64(len(grp.Metrics))
	det.Band, det.Contributors = schemas.Band{Lower: 0, Upper: d.groupBand[g.group]}, contrib
	det.Annotations["description"] = fmt.Sprintf("Mahalanobis distance² %.4g over %d series (z %.1f, firing above %.4g)%s",
		s.D2, len(grp.Metrics), s.Z, d.groupBand[g.group], top)
	if why != "" {
		det.Annotations["description"] = why
	}
	d.log.Info("detection", "state", det.State, "device", k.Device, "metric", k.Metric, "keys", k.Keys,
		"event_time", det.EventTime, "d2", s.D2, "z", s.Z, "severity", det.Severity)
	return d.det.Send(emit, det)
}

// Committed implements Processor: n detections became visible.
func (d *Stage) Committed(n int) { d.emitted.Add(int64(n)) }

// Emitted returns the number of detections committed to Kafka. Safe for
// concurrent use.
func (d *Stage) Emitted() int64 { return d.emitted.Load() }

// Series returns the number of series with state. Safe for concurrent use.
func (d *Stage) Series() int { return int(d.nseries.Load()) }
