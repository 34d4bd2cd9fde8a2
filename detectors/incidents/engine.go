package incidents

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// incident is the engine's state of one incident.
type incident struct {
	// Seq numbers the incidents of an engine in the order they opened:
	// the engine keeps them in that order, and its state records are
	// keyed by it (see Changes).
	Seq      uint64 `json:",omitempty"`
	ID       string
	Opened   int64 // event time of the first member, Unix ns
	Updated  int64
	Resolved int64 // event time it resolved; 0 while open
	// Seen is the engine's time (the latest of its detections', see
	// clock) when the incident last changed, from which a resolved one
	// is held (see expiry): a device whose clock runs behind the others
	// resolves its incidents at event times long before the engine's
	// time. 0 in records written before it.
	Seen int64 `json:",omitempty"`
	// MergedInto is the id of the incident that absorbed this one; set
	// only on the view published at the merge (the engine forgets it then).
	MergedInto string `json:",omitempty"`
	// Closed is why the engine resolved it while member alerts fired
	// (ClosedDeviceRemoved, ClosedStale), Note that reason for a person
	// (describe adds it to the cause); both "" otherwise, and once it
	// opens again.
	Closed string `json:",omitempty"`
	Note   string `json:",omitempty"`
	// ClosedAt is the engine's time (see clock) of the detection that
	// found it stale (ClosedStale), from which it is held for the
	// resolutions of its alerts (see expiry); 0 otherwise, once it opens
	// again, and in records written before it.
	ClosedAt int64 `json:",omitempty"`
	Members  []member
	// Firing are the fingerprints of the members firing now.
	Firing map[string]bool

	memo memo // what the members say, for the rules' quick checks; not state
}

// memo caches what an incident's members say for the checks every
// detection makes against the incidents it may concern (reach.go): its
// class, and the devices of its members (not effects) and of their
// inventory peers. Members only grow, so a memo is current while it counts
// as many members (and, for the peers, the same inventory); Add brings it
// up to date with the member it inserts (rememberAdded), so a detection
// joining a long incident does not go over every member again, and
// anything else that adds members (a merge) leaves it to be taken afresh.
// reclaim, which turns effects into members, drops it.
type memo struct {
	clsN int // members when the class fields were taken; 0: never
	cls  class
	// The class fields, from which cls is taken: how many members (not effects) are target states
	// and link states, the event time of the earliest member that is not
	// an effect and the strongest class of those at that time (classOf),
	// the devices of the target states, sorted (targetDevices), and how
	// many members are effects.
	targetN, linkN, effects int32
	firstCls                class
	firstAny                bool
	firstT                  int64
	targets                 []string

	devN   int // members when own and near were taken; 0: never
	devInv int // the inventory generation near was taken with
	own    map[string]bool
	near   map[string]bool // own, and the peer devices of the members' ports and sessions
	alerts map[string]bool // the members' fingerprints, effects too

	ents  *entityList // the entities, for a long incident (rules.go)
	tal   *tally      // what describe reads, for a long incident (tally.go)
	cand  *candidates // the members a lost target may take, for a long incident (tally.go)
	links *linkMemo   // its ports and link states, for a long incident (tally.go)
}

// farLink is a firing link-state member facing a device: its event time
// and its own device.
type farLink struct {
	t      int64
	device string
}

// Engine keeps incidents from detections. It is not safe for concurrent
// use; a stage owns one per partition.
type Engine struct {
	cfg    Config
	inv    *schemas.InventoryIndex
	invGen int // counts SetInventory calls, for memo
	// invDevices is whether the inventory lists any device: an empty
	// one removes none (see closeGone).
	invDevices bool
	neighbours map[string]int // device → the devices the inventory links to it (farEnd)
	lastPeer   lastPeer       // the last answer of peer
	incs       []*incident    // open, or resolved less than Reopen ago, by Seq (but see bySeq)
	// bySeq, while RestoreRecord restores incidents out of Seq order (a
	// compacted changelog holds them in the order they were last
	// written), gives the position in incs of each Seq, incs being in no
	// order; nil otherwise. inOrder sorts incs again, once, before
	// anything else reads it; inserting each record in its place instead
	// moved n/2 pointers a record, n²/4 over a restore.
	bySeq map[uint64]int
	// Dropped counts resolved detections of alerts no incident knew (their
	// firing came before the engine's state began), DroppedStale those of
	// them whose alert fired longer than StaleAfter before: its incident was
	// resolved as stale and forgotten before the resolution came (see
	// expiry).
	Dropped      int
	DroppedStale int
	// Closed counts, by reason (ClosedDeviceRemoved, ClosedStale), the
	// incidents the engine resolved while member alerts fired, since it
	// was made; it is not part of the state.
	Closed  map[string]int
	lastSeq uint64 // the last Seq given
	// latest is the engine's time: the latest time (see clock) of the
	// detections it took, for Seen. Restored from the incidents' Seen
	// and the counters' record.
	latest int64

	changed     map[uint64]bool // the Seq of every incident changed or forgotten since the last Changes
	metaChanged bool            // Dropped or lastSeq changed since the last Changes

	// open is the count of open incidents while openOK (OpenCount). Add
	// and UnmarshalBinary drop it; RestoreRecord keeps it current, so a
	// restore that counts after every record (the correlate stage's
	// gauge) does not go over every incident each time. recounts counts
	// the times OpenCount went over them.
	open     int
	openOK   bool
	recounts int

	reach *reach // the incidents by what may concern them (reach.go); nil: file them again
	// expireAt is the earliest event time at which an incident held may
	// be forgotten (see expire); 0: unknown.
	expireAt int64
	// staleAt is the earliest event time at which an open incident may
	// go stale (see closeStale); 0: unknown.
	staleAt int64
	// checkGone is set when the inventory changed or the state was
	// restored: the next detection looks for incidents of devices removed
	// from the inventory (closeGone).
	checkGone bool
	// scanAll checks a detection against every incident held, not those
	// reach finds, and looks for incidents to forget at every detection:
	// the engine before reach and expireAt, for tests.
	scanAll bool
	// wideAll checks a detection, or a merge, against every incident
	// filed under a wide device key, not those its roles and times may
	// meet (see reach.mayMeet): the engine before them, for tests.
	wideAll bool
	// narrow, when not 0, is the most incidents filed under a device key
	// whose sharing reach counts pair by pair, for tests (see keyNarrow).
	narrow int
	// long, when not 0, is the fewest members of an incident that keeps a
	// tally, its entities and its candidates, for tests (see longFrom).
	long int
	// namesBound, when not 0, is the most bytes of Devices and Sites an
	// update carries, for tests (see namesMax).
	namesBound int
}

// New returns an Engine with cfg (defaults applied, then validated) and the
// inventory inv (nil: none; detections then group by device and time only).
func New(cfg Config, inv *schemas.Inventory) (*Engine, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cannot create incident engine: %w", err)
	}
	return &Engine{cfg: cfg, inv: inv.Index(), invDevices: inv != nil && len(inv.Devices) > 0, neighbours: neighbourCounts(inv)}, nil
}

// SetInventory replaces the inventory; incidents already open keep their
// members and are described with the new one from their next update. The
// next detection resolves the incidents whose firing alerts are all on
// devices inv no longer lists (ClosedDeviceRemoved; see Add).
func (e *Engine) SetInventory(inv *schemas.Inventory) {
	e.inv = inv.Index()
	e.invDevices = inv != nil && len(inv.Devices) > 0
	e.neighbours = neighbourCounts(inv)
	e.checkGone = true
	e.invGen++
	e.lastPeer = lastPeer{}
	e.reach = nil // the peers changed
}

// lastPeer is the last question peer answered and its answer.
type lastPeer struct {
	valid      bool
	port, peer schemas.Port
	ok         bool
}

// Add takes one detection and returns the incidents it opened or changed:
// first those it resolved because their firing alerts are all on devices
// removed from the inventory since (ClosedDeviceRemoved) or they took no
// evidence for StaleAfter before its event time (ClosedStale), then those
// it merged into a stronger one (resolved, MergedInto set, to be published
// once and then forgotten), then the one it joined; only the first when
// it changed nothing else (a resolution of an alert no incident holds, or
// a detection an incident held already has: one delivered again).
//
// The result does not depend on the order in which detections of about
// the same event time arrive: a detection joins the first incident it
// fits, and when that incident then explains another one held (a link
// down explaining a session reset that arrived before it, a leaf's session
// to a spine joining the spine's), the weaker is absorbed into the
// stronger (see merge.go). Members are kept in (event time, fingerprint)
// order, so the rules see the same members in the same order whatever
// the arrival order. Detections more than Window out of order may still
// open incidents of their own.
//
// The engine's time, which forgets the incidents held and finds the stale
// ones, is that of each detection's event time, or its DetectedAt when that
// is earlier (see clock): a device whose clock runs ahead neither makes
// the engine forget incidents nor resolves them as stale.
func (e *Engine) Add(d *schemas.Detection) []*schemas.Incident {
	e.inOrder()
	e.openOK = false
	m := newMember(d, e.inv)
	now := clock(d, m.Time)
	e.latest = max(e.latest, now)
	e.expire(now)
	var out []*schemas.Incident
	for _, c := range append(e.closeGone(now), e.closeStale(now)...) {
		out = append(out, e.describe(c, nil))
	}
	near := e.nearMember(&m)
	if e.holds(near, &m) {
		// Delivered again (upstream is at least once): joined again, a
		// firing would reopen its resolved incident for good, a resolution
		// close one whose alert fired again since.
		return out
	}
	in, effect := e.find(near, &m)
	if in == nil {
		if !m.Firing {
			e.Dropped++
			if e.cfg.StaleAfter > 0 && !d.StartsAt.IsZero() && m.Time-d.StartsAt.UnixNano() > int64(e.cfg.StaleAfter) {
				e.DroppedStale++
			}
			e.metaChanged = true
			return out
		}
		e.lastSeq++
		e.metaChanged = true
		in = &incident{Seq: e.lastSeq, ID: incidentID(&m), Opened: m.Time, Firing: map[string]bool{}}
		e.incs = append(e.incs, in)
	}
	m.Effect = effect
	in.insert(m)
	e.rememberAdded(in, &m)
	e.file(in, []member{m})
	if !effect {
		// A late firing of an alert last fired on a device removed from
		// the inventory since (see gone) does not fire it again: its
		// incident stays resolved "device removed", as an engine
		// restored here, which looks again (closeGone), has it.
		switch {
		case !m.Firing:
			delete(in.Firing, m.Fingerprint)
		case !e.gone(in, m.Fingerprint):
			in.Firing[m.Fingerprint] = true
		}
	}
	in.settle(m.Time)
	merged, in := e.mergeAll(in, m.Time)
	for _, b := range merged {
		e.touch(b)
		out = append(out, e.describe(b, &m))
	}
	reclaimed := !effect && e.reclaim(in)
	if reclaimed {
		in.settle(m.Time)
	}
	if (reclaimed || len(merged) > 0) && in.Resolved == 0 {
		// Members a merge or a reclaim brought may make an alert last
		// fired on a removed device fire: dropped, as closeGone would
		// after a restore.
		if gone := e.dropGone(in); len(gone) > 0 && len(in.Firing) == 0 {
			e.closeGoneAs(in, now, gone)
		}
	}
	e.touch(in)
	if in.Resolved != 0 {
		// The one incident held whose expiry this detection may have
		// moved (by resolving it or changing its class); those a merge
		// absorbed are gone.
		e.expireAt = min(e.expireAt, e.expiry(in))
	} else if e.staleAt != 0 {
		e.staleAt = min(e.staleAt, e.staleFrom(in)) // opened or reopened
	}
	return append(out, e.describe(in, &m))
}

// clock returns the engine's time at detection d of event time t (Unix
// ns): t, or d's DetectedAt (the wall time of the stage that detected it)
// when that is earlier. A collector takes timestamps up to a day ahead
// (gnmi's max_future), so one device whose clock runs ahead would
// otherwise move the engine's time by hours: every resolved incident
// forgotten, every open one stale. A backfill or a replay is not
// changed: it is detected after its event time. A zero DetectedAt (not
// set) leaves t.
func clock(d *schemas.Detection, t int64) int64 {
	if d.DetectedAt.IsZero() {
		return t
	}
	return min(t, d.DetectedAt.UnixNano())
}

// touch notes that in changed or was forgotten, for Changes, and when
// (Seen).
func (e *Engine) touch(in *incident) {
	if e.changed == nil {
		e.changed = map[uint64]bool{}
	}
	e.changed[in.Seq] = true
	in.Seen = max(in.Seen, e.latest)
}

// insert adds m to in's members in (event time, fingerprint, firing
// first, id) order, and moves Opened back when m is an earlier symptom.
func (in *incident) insert(m member) {
	i, found := slices.BinarySearchFunc(in.Members, m, memberOrder)
	in.Members = slices.Insert(in.Members, i, m)
	if found {
		// Two members of one place in memberOrder (one detection twice):
		// the entities' order by member (entityList) cannot tell them apart.
		in.memo.ents = nil
	}
	in.Updated = max(in.Updated, m.Time)
	if !m.Effect && m.Firing && m.Time < in.Opened {
		in.Opened = m.Time
	}
}

// memberOrder orders members by event time, then fingerprint, a firing
// before its resolution, then detection id.
func memberOrder(a, b member) int {
	switch {
	case a.Time != b.Time:
		return cmp.Compare(a.Time, b.Time)
	case a.Fingerprint != b.Fingerprint:
		return strings.Compare(a.Fingerprint, b.Fingerprint)
	case a.Firing != b.Firing:
		if a.Firing {
			return -1
		}
		return 1
	}
	return strings.Compare(a.ID, b.ID)
}

// settle resolves in when none of its members fires, at event time at or
// its latest member resolution if later (one that arrived earlier, from a
// detections partition ahead of the one that brought at), and reopens it
// when one fires.
func (in *incident) settle(at int64) {
	switch {
	case len(in.Firing) == 0 && in.Resolved == 0:
		in.Resolved = resolvedAt(max(at, in.Opened, in.lastResolution()))
	case len(in.Firing) > 0:
		in.Resolved, in.Closed, in.Note, in.ClosedAt = 0, "", "", 0
	}
}

// resolvedAt returns event time t as an incident's Resolved, which is 0
// while it is open: an incident resolved at the Unix epoch (a device
// whose clock was never set) is resolved a nanosecond after it.
func resolvedAt(t int64) int64 {
	if t == 0 {
		return 1
	}
	return t
}

// lastResolution returns the event time of in's latest resolution of a
// member (not an effect), or 0.
func (in *incident) lastResolution() int64 {
	for i := len(in.Members) - 1; i >= 0; i-- { // in event-time order (see insert)
		if m := &in.Members[i]; !m.Firing && !m.Effect {
			return m.Time
		}
	}
	return 0
}

// Open returns every incident the engine holds (open, or resolved less than
// Reopen before the latest detection), in the order they opened (by Seq).
func (e *Engine) Open() []*schemas.Incident {
	e.inOrder()
	out := make([]*schemas.Incident, 0, len(e.incs))
	for _, in := range e.incs {
		out = append(out, e.describe(in, nil))
	}
	return out
}

// OpenCount returns how many of the incidents held are open (not
// resolved), as Open would show them, without describing them. It goes
// over the incidents once after an Add, not after a RestoreRecord.
func (e *Engine) OpenCount() int {
	if !e.openOK {
		e.open, e.openOK = 0, true
		e.recounts++
		for _, in := range e.incs {
			e.open += in.isOpen()
		}
	}
	return e.open
}

// isOpen is 1 when in is open (not resolved), else 0.
func (in *incident) isOpen() int {
	if in.Resolved == 0 {
		return 1
	}
	return 0
}

// Created returns how many incidents the engine has opened since its
// state began (the count is part of the state): an Add that opened one
// (the last incident it returns, or one merged into another) moves it by
// one. An incident a detection joins may have the id that detection would
// have opened (see ID: another alert of the same series and time), so it
// is this, not the id, that tells a new incident.
func (e *Engine) Created() uint64 { return e.lastSeq }

// expire forgets, at engine time now (see clock), the incidents past
// their expiry: resolved longer ago than they may reopen (see keep), plus
// Lateness for detections that arrive late. It looks only when now is
// past expireAt, the earliest expiry of the incidents held, kept by its
// last look and by Add (0: unknown, look).
func (e *Engine) expire(now int64) {
	if !e.scanAll && e.expireAt != 0 && now <= e.expireAt {
		return
	}
	next := int64(math.MaxInt64)
	e.incs = slices.DeleteFunc(e.incs, func(in *incident) bool {
		if in.Resolved == 0 {
			return false
		}
		if at := e.expiry(in); now <= at {
			next = min(next, at)
			return false
		}
		e.touch(in)
		e.unfile(in)
		return true
	})
	e.expireAt = next
}

// expiry returns the engine time after which resolved incident in is
// forgotten (the largest time when that is later than time can say):
// keep plus Lateness after it resolved, or after the engine's time when it
// last changed (Seen) if that is later: an incident of a device whose
// clock runs behind resolves at an event time the other devices' passed
// long before, and its link's next flap must still find it. An incident
// resolved as stale resolved at its latest evidence plus StaleAfter,
// often long before the detection that found it stale (in a quiet
// partition), and its alerts still fire: it is held from that detection
// (ClosedAt), and while one of its alerts has not resolved, for
// StaleAfter, so that the resolution of a fault that outlasted StaleAfter
// joins it (up to StaleAfter after it was found stale; a later one is
// counted in DroppedStale).
func (e *Engine) expiry(in *incident) int64 {
	from, hold := max(in.Resolved, in.Seen), e.keep(in)
	if in.Closed == ClosedStale && in.ClosedAt != 0 {
		from = max(from, in.ClosedAt, in.lastResolution())
		if in.unresolved() {
			hold = max(hold, e.cfg.StaleAfter)
		}
	}
	d := int64(hold) + int64(e.cfg.Lateness)
	if d < int64(hold) || d > 0 && from > math.MaxInt64-d { // a Window of centuries, plus Lateness, wraps
		return math.MaxInt64
	}
	return from + d
}

// unresolved reports whether an alert of in (not an effect) fired and
// has not resolved since: its latest member, in event-time order, is a
// firing.
func (in *incident) unresolved() bool {
	seen := map[string]bool{}
	for i := len(in.Members) - 1; i >= 0; i-- { // in event-time order (see insert)
		m := &in.Members[i]
		if m.Effect || seen[m.Fingerprint] {
			continue
		}
		if m.Firing {
			return true
		}
		seen[m.Fingerprint] = true
	}
	return false
}

// keep returns how long after resolving in still takes new evidence:
// Reopen for link and device incidents (a flapping link stays one),
// Window for the others (a BGP clear is over when its sessions are back,
// and the next clear minutes later is a new event).
func (e *Engine) keep(in *incident) time.Duration {
	if c := in.class(); c == classLink || c == classTarget {
		return e.cfg.Reopen
	}
	return e.cfg.Window
}

// live reports whether in takes new evidence of event time t: it is open,
// or resolved no longer than keep before t.
func (e *Engine) live(in *incident, t int64) bool {
	return in.Resolved == 0 || t-in.Resolved <= int64(e.keep(in))
}

// ID returns the id of the incident d opens when it opens one.
func ID(d *schemas.Detection) string {
	return incidentID(&member{Device: d.Device, Metric: d.Metric, Keys: d.Keys, Time: d.EventTime.UnixNano()})
}

// incidentID derives an incident's id from its first symptom: the series
// and the event time.
func incidentID(m *member) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\xff%s\xff%s\xff%d", m.Device, m.Metric, m.Keys, m.Time)
	return fmt.Sprintf("%016x", h.Sum64())
}

// holds reports whether an incident of near already has detection m (its
// id, time, alert and state): members are kept in memberOrder, so it is
// found by bisection, however long the incident.
func (e *Engine) holds(near []*incident, m *member) bool {
	for _, in := range near {
		if e.remember(in); in.memo.alerts[m.Fingerprint] {
			if _, ok := slices.BinarySearchFunc(in.Members, *m, memberOrder); ok {
				return true
			}
		}
	}
	return false
}

// find returns the incident of near (see nearMember) m joins, and whether
// it joins as an effect: the first (by Seq) it is a symptom of, or else,
// of those it is an effect of, the first in the order of before (two
// links of one instant that the traffic may have moved from: the same
// whichever arrived first, when both did before it).
// An alert stays in its incident while it fires, and its resolution joins
// it too; an alert that fires again joins its old incident only if that is
// a link's (a flapping link is one incident), otherwise it is a new onset
// and joins by the rules (the next BGP clear on the same router is a new
// event).
func (e *Engine) find(near []*incident, m *member) (*incident, bool) {
	if in, effect := e.byAlert(near, m); in != nil {
		return in, effect
	}
	if !m.Firing {
		return nil, false
	}
	for _, in := range near {
		if e.live(in, m.Time) && e.joins(in, m) {
			return in, false
		}
	}
	if m.Class != classTraffic {
		return nil, false
	}
	var best *incident
	for _, in := range near {
		if e.live(in, m.Time) && e.effectOf(in, m) && (best == nil || before(in, best)) {
			best = in
		}
	}
	return best, best != nil
}

// before reports whether a comes before b among the incidents traffic is
// an effect of: the stronger class, then the one opened first, then the
// smaller id. Not the one opened first on the stream (by Seq): of two
// incidents of one instant, that is whichever detection arrived first.
func before(a, b *incident) bool { return outranks(a, b, classStrength) }

// byAlert returns the incident of near m's alert belongs to, and
// whether as an effect: for a resolution, the incident where the alert
// fires (the first opened), else the latest that has it; for a firing, the
// latest live one where it is an effect, still fires, or that is a link's.
// First and latest are by (Opened, id), not by Seq (the order incidents of
// one instant opened on the stream).
func (e *Engine) byAlert(near []*incident, m *member) (*incident, bool) {
	var found *incident
	effect, fires := false, false
	for _, in := range near {
		f := !m.Firing && in.Firing[m.Fingerprint]
		switch {
		case found != nil && fires && (!f || later(in, found)):
			continue
		case found != nil && !f && !later(in, found):
			continue
		case f:
			found, effect, fires = in, false, true
			continue
		case m.Firing && !e.live(in, m.Time):
			continue
		}
		if e.remember(in); !in.memo.alerts[m.Fingerprint] {
			continue
		}
		for i := range in.Members {
			p := &in.Members[i]
			if p.Fingerprint == m.Fingerprint && (!m.Firing || p.Effect || in.Firing[m.Fingerprint] || in.class() == classLink || in.class() == classTarget) {
				found, effect = in, p.Effect
				break
			}
		}
	}
	return found, effect
}

// later reports whether a opened after b: at a later event time, or at
// the same one with a larger id.
func later(a, b *incident) bool {
	if a.Opened != b.Opened {
		return a.Opened > b.Opened
	}
	return a.ID > b.ID
}

// within reports whether t is no more than Window after from (or before it).
func (e *Engine) within(t, from int64) bool {
	d := t - from
	return d >= -int64(e.cfg.Window) && d <= int64(e.cfg.Window)
}

// during reports whether t is within Window of in's span, from its first
// symptom to its latest evidence. In event-time order that is t no more
// than Window after the latest evidence; a detection that arrives late
// (its partition behind the others) still finds the incident it belongs
// to. The span saturates (around): a Window of centuries would wrap.
func (e *Engine) during(t int64, in *incident) bool {
	w := e.around(in.Opened, in.Updated)
	return t >= w.lo && t <= w.hi
}

// joins reports whether m is a symptom of in.
func (e *Engine) joins(in *incident, m *member) bool {
	cls := in.class()
	switch {
	case m.isTarget():
		return e.targetJoins(in, m)
	case cls == classTarget && m.Class != classHardware && e.touchesTarget(in, m):
		return true
	}
	switch m.Class {
	case classLink, classSession, classTraffic:
		if m.Port != "" && e.hasPort(in, m.Device, m.Port) {
			return true
		}
	}
	switch m.Class {
	case classLink:
		return cls == classLink && (e.recentLinkDown(in, m) || e.farEndJoins(in, m))
	case classSession:
		if cls != classLink && cls != classSession && cls != classTarget {
			return false
		}
		if e.involves(in, m.Device) && e.during(m.Time, in) {
			return true
		}
		_, known := e.inv.Device(m.Device)
		return cls == classSession && !known && e.within(m.Time, in.lastOnset(classSession)) &&
			m.Time-in.Opened <= int64(e.cfg.SessionSpan) && e.allUnknown(in)
	case classHardware:
		return cls == classHardware && in.Members[0].Device == m.Device && e.sameHardwareChain(in, m)
	case classTraffic:
		return cls == classTraffic && in.Members[0].Device == m.Device && e.within(m.Time, in.Opened)
	case classOther:
		return cls == classOther && e.sameSeries(in, m)
	}
	return false
}

// allUnknown reports whether the inventory knows none of the devices of
// in's members (not effects). A session of a device it does not know
// joins by time alone only such an incident: one that holds a known
// device's session may also be that session's link's (a link explains
// the sessions of its devices, not those of a device nothing ties to it),
// and which of the two it became would depend on which detection of
// the instant came first.
func (e *Engine) allUnknown(in *incident) bool {
	own, _ := e.devices(in)
	for d := range own {
		if _, known := e.inv.Device(d); known {
			return false
		}
	}
	return true
}

// sameSeries reports whether in has a member (not an effect) on m's
// series within Window of m: another alert of one series at about the
// same time (the ensemble's and a rule's, whose fingerprints differ) is
// one anomaly, and would otherwise open an incident with the same id.
func (e *Engine) sameSeries(in *incident, m *member) bool {
	for i := range in.Members {
		p := &in.Members[i]
		if !p.Effect && p.Device == m.Device && p.Metric == m.Metric && p.Keys == m.Keys && e.within(m.Time, p.Time) {
			return true
		}
	}
	return false
}

// sameHardwareChain reports whether hardware member m can be a symptom of
// the same fault as hardware incident in. A device's power and cooling
// (PSUs, fans, temperatures, the power residual, and an optic's
// temperature and laser bias) are one chain: a failing PSU heats the box
// and speeds the fans. An optic's light is a fault of its own: it joins
// only an incident that holds that optic's light, and an incident opened
// by an optic's light takes nothing of the chain but signals of that same
// component within Window of its evidence (a replaced optic's new laser
// bias). So an optic decaying while a fan wears is two incidents.
func (e *Engine) sameHardwareChain(in *incident, m *member) bool {
	optic := isOptic(m)
	for i := range in.Members {
		p := &in.Members[i]
		if p.Class != classHardware {
			continue
		}
		switch {
		case optic && isOptic(p) && p.Component == m.Component, !optic && !isOptic(p):
			return true
		case p.Component == m.Component && e.within(m.Time, p.Time):
			return true
		}
	}
	return false
}

// isOptic reports whether hardware member m is an optic's own signal, its
// light (receive or transmit power), not its temperature or laser bias,
// which follow the cooling.
func isOptic(m *member) bool {
	return strings.Contains(m.Metric, "/transceiver/") && strings.Contains(m.Metric, "-power/")
}

// effectOf reports whether traffic member m is an effect of link or
// session incident in: on a port of one of its devices or their link
// peers, within Window of its opening (traffic moved to sibling uplinks or
// other routes).
func (e *Engine) effectOf(in *incident, m *member) bool {
	if c := in.class(); (c != classLink && c != classSession && c != classTarget) || !e.within(m.Time, in.Opened) {
		return false
	}
	if e.involves(in, m.Device) {
		return true
	}
	p, ok := e.inv.Peer(schemas.Port{Device: m.Device, Interface: m.Port})
	return ok && e.involves(in, p.Device)
}

// devices returns the devices of in's members that are not effects, and
// those with the peer devices of their ports and sessions added (see memo).
func (e *Engine) devices(in *incident) (own, near map[string]bool) {
	e.remember(in)
	return in.memo.own, in.memo.near
}

// remember brings in's memo of its members' devices and alerts up to date.
func (e *Engine) remember(in *incident) {
	mo := &in.memo
	if mo.devN != len(in.Members) || mo.devInv != e.invGen {
		mo.own, mo.near, mo.alerts = map[string]bool{}, map[string]bool{}, map[string]bool{}
		for i := range in.Members {
			e.memoAdd(mo, &in.Members[i])
		}
		mo.devN, mo.devInv = len(in.Members), e.invGen
	}
}

// rememberAdded brings in's memo up to date with m, just inserted, when
// it was current before: its sets only grow with the members, so the one
// member is added rather than all of a long incident's taken again. So
// do its class, its entities, its tally, its candidates and its links.
func (e *Engine) rememberAdded(in *incident, m *member) {
	mo := &in.memo
	if mo.clsN != 0 && mo.clsN == len(in.Members)-1 {
		mo.classAdd(m)
		mo.clsN++
		mo.cls = in.classFrom(mo)
	}
	if l := mo.ents; l != nil && l.n == len(in.Members)-1 && l.inv == e.invGen {
		e.entitiesAdd(l, m)
		l.n++
	}
	if t := mo.tal; t != nil && t.n == len(in.Members)-1 && t.inv == e.invGen {
		e.tallyAdd(t, m)
		t.n++
	}
	if c := mo.cand; c != nil && c.n == len(in.Members)-1 && c.inv == e.invGen {
		e.candidatesAdd(c, m)
		c.n++
	}
	if l := mo.links; l != nil && l.n == len(in.Members)-1 && l.inv == e.invGen {
		e.linksAdd(l, m)
		l.n++
	}
	if mo.devN == 0 || mo.devN != len(in.Members)-1 || mo.devInv != e.invGen {
		return
	}
	e.memoAdd(mo, m)
	mo.devN++
}

// memoAdd adds member m to memo mo's sets.
func (e *Engine) memoAdd(mo *memo, m *member) {
	mo.alerts[m.Fingerprint] = true
	if m.Effect {
		return
	}
	mo.own[m.Device], mo.near[m.Device] = true, true
	if pd := e.peerDevice(m); pd != "" {
		mo.near[pd] = true
	}
}

// hasPort reports whether in has a member (not an effect) on port
// (device, iface) or on its link peer.
func (e *Engine) hasPort(in *incident, device, iface string) bool {
	peer, hasPeer := e.peer(schemas.Port{Device: device, Interface: iface})
	if own, _ := e.devices(in); !own[device] && !(hasPeer && own[peer.Device]) {
		return false
	}
	if l := e.linksOf(in); l != nil {
		return l.ports[schemas.Port{Device: device, Interface: iface}] || hasPeer && l.ports[peer]
	}
	for i := range in.Members {
		p := &in.Members[i]
		if p.Port == "" || p.Effect {
			continue
		}
		if p.Device == device && p.Port == iface || hasPeer && p.Device == peer.Device && p.Port == peer.Interface {
			return true
		}
	}
	return false
}

// peer returns the inventory's link peer of port. The last answer is kept
// (until SetInventory): a detection asks the same of each incident it is
// checked against.
func (e *Engine) peer(port schemas.Port) (schemas.Port, bool) {
	if c := &e.lastPeer; !c.valid || c.port != port {
		c.peer, c.ok = e.inv.Peer(port)
		c.port, c.valid = port, true
	}
	return e.lastPeer.peer, e.lastPeer.ok
}

// recentLinkDown reports whether in has a link-state member on m's device
// within Window of m (interfaces of one device going down together).
func (e *Engine) recentLinkDown(in *incident, m *member) bool {
	if !m.linkState() {
		return false
	}
	if own, _ := e.devices(in); !own[m.Device] { // link-state members are not effects
		return false
	}
	if l := e.linksOf(in); l != nil {
		ts := l.linkAt[m.Device]
		for i := len(ts) - 1; i >= 0; i-- { // the latest added first: most often within Window
			if e.within(m.Time, ts[i]) {
				return true
			}
		}
		return false
	}
	for i := range in.Members {
		if p := &in.Members[i]; p.linkState() && p.Device == m.Device && e.within(m.Time, p.Time) {
			return true
		}
	}
	return false
}

// involves reports whether device is a member's device or the inventory
// peer of a member's port or session.
func (e *Engine) involves(in *incident, device string) bool {
	_, near := e.devices(in)
	return near[device]
}

// peerDevice returns the device at the other end of m's port or session,
// or "".
func (e *Engine) peerDevice(m *member) string {
	if m.Neighbor != "" {
		if s, ok := e.inv.Session(m.Device, m.Neighbor); ok {
			return s.PeerDevice
		}
	}
	if m.Port != "" {
		if p, ok := e.inv.Peer(schemas.Port{Device: m.Device, Interface: m.Port}); ok {
			return p.Device
		}
	}
	return ""
}

// class returns the incident's class: target when any member is a
// target state, else link when any member is a link state, else the
// strongest class (see classStrength) of its earliest members that are not
// effects: of members of one event time, that is the one the others are
// symptoms of (a BFD session over a port, with that port's traffic), not
// the one whose fingerprint sorts first, so the class, and the detections
// the incident takes after, do not depend on which of them arrived first.
func (in *incident) class() class { return in.classMemo().cls }

// classFrom returns in's class from the class fields of mo, its memo.
func (in *incident) classFrom(mo *memo) class {
	switch {
	case mo.targetN > 0:
		return classTarget
	case mo.linkN > 0:
		return classLink
	case !mo.firstAny:
		return in.Members[0].Class // an incident of effects alone (none is) keeps its first
	}
	return mo.firstCls
}

// classMemo returns in's memo with its class fields up to date.
func (in *incident) classMemo() *memo {
	mo := &in.memo
	if mo.clsN != len(in.Members) {
		mo.targetN, mo.linkN, mo.firstAny, mo.targets, mo.effects = 0, 0, false, nil, 0
		for i := range in.Members {
			mo.classAdd(&in.Members[i])
		}
		mo.clsN = len(in.Members)
		mo.cls = in.classFrom(mo)
	}
	return mo
}

// classAdd adds member m to mo's class fields.
func (mo *memo) classAdd(m *member) {
	if m.Effect {
		mo.effects++
		return
	}
	switch {
	case m.isTarget():
		mo.targetN++
		if i, ok := slices.BinarySearch(mo.targets, m.Device); !ok {
			mo.targets = slices.Insert(mo.targets, i, m.Device)
		}
	case m.linkState():
		mo.linkN++
	}
	switch {
	case !mo.firstAny || m.Time < mo.firstT:
		mo.firstAny, mo.firstT, mo.firstCls = true, m.Time, m.Class
	case m.Time == mo.firstT && classStrength(m.Class) > classStrength(mo.firstCls):
		mo.firstCls = m.Class
	}
}

// classOf is class, computed from the members by a pass over them (the
// reference the memo's class is tested against).
func (in *incident) classOf() class {
	first, link := -1, false
	cls := in.Members[0].Class // an incident of effects alone (none is) keeps its first
	for i := range in.Members {
		m := &in.Members[i]
		if m.Effect {
			continue
		}
		if m.isTarget() {
			return classTarget
		}
		link = link || m.linkState()
		switch {
		case first < 0:
			first, cls = i, m.Class
		case m.Time == in.Members[first].Time && classStrength(m.Class) > classStrength(cls):
			cls = m.Class
		}
	}
	if link {
		return classLink
	}
	return cls
}

// classStrength orders the classes by what explains what: a lost target
// its neighbours' links, a link the sessions over it, a session the
// traffic that moved, hardware (which no other class joins) above traffic
// and anything else.
func classStrength(c class) int {
	switch c {
	case classTarget:
		return 5
	case classLink:
		return 4
	case classSession:
		return 3
	case classHardware:
		return 2
	case classTraffic:
		return 1
	}
	return 0
}

// lastOnset returns the event time of in's latest firing member of class
// c (not an effect): sessions reset one after another, each within Window
// of the previous, are one event (a clear of several routers in turn).
func (in *incident) lastOnset(c class) int64 {
	var t int64
	for i := range in.Members {
		if m := &in.Members[i]; m.Class == c && m.Firing && !m.Effect {
			t = max(t, m.Time)
		}
	}
	return t
}
