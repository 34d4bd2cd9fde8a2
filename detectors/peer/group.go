package peer

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/telekernel/telekernel/internal/binenc"
	"github.com/telekernel/telekernel/schemas"
)

// Rule holds the configuration every group of a New shares.
type Rule struct{ cfg *Config }

// New returns a rule with cfg's defaults applied; it fails on an invalid
// cfg.
func New(cfg Config) (*Rule, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Rule{cfg: &cfg}, nil
}

// Config returns the rule's configuration, defaults applied.
func (r *Rule) Config() Config { return *r.cfg }

// Group returns an empty group of kind k sharing r's configuration.
func (r *Rule) Group(k Kind) *Group { return &Group{cfg: r.cfg, kind: k} }

// Bits of member.parts: the readings of a power supply at partTS.
const (
	partOut = 1 << iota
	partVolts
	partAmps
	partInW
)

// member is one component of a group.
type member struct {
	name   string  // its keys, e.g. "name=Fan1"
	x      float64 // its reading of the current round
	in     bool    // x is set
	missed uint16  // rounds in a row without a reading
	// A power supply's readings of one timestamp, until they make one.
	partTS                int64
	out, volts, amps, inW float64
	parts                 uint8
	since                 int64 // the round its alert fired at, while it fires
	st                    stat
}

// MemberBytes is the memory of one member of a group, besides its name.
const MemberBytes = 160

// Group is the rule for the components of one kind on one device: each
// member's reading (Kind) is compared, round by round, with the median of
// its siblings' readings of the same round. A round closes when every
// known member has a reading in it, or when a member reads again before
// that (a sibling missing); a member with no reading for 60 rounds is
// forgotten. In a round each member's departure, its reading over its
// siblings' median minus 1, is smoothed (an exponentially weighted mean
// of time constant Smooth, each reading clipped to Clip noise deviations
// from the usual departure), and compared with its usual departure (the
// offset a member of another model or slot keeps from its siblings,
// learned over Level rounds): Run rounds in a row more than Sigmas
// standard deviations of the smoothed departure below it fire the
// member's alert, Clear rounds back within Sigmas/2 resolve it. The usual
// departure and the noise are learned during the first Warmup rounds and
// then only while the member is less than a third of the way to firing
// on the bad side and no member of the group fires: a long wear does not
// become normal, and the siblings of a worn member, whose departures
// mirror its wear, do not take the mirror image as their usual offset. Only the bad side fires: a fan slower than its siblings,
// a power supply less efficient. With one member nothing is judged.
//
// It is not safe for concurrent use.
type Group struct {
	cfg     *Config
	kind    Kind
	members []member // by name
	roundTS int64    // the latest timestamp of a reading in the round
	sorted  []float64
}

// Change is a member's alert changing at a round.
type Change struct {
	Member string // the member's keys
	Event  Event
	TS     int64 // Unix ns of the round's latest reading
	// Observed is the member's reading; Expected what its siblings'
	// median and its usual offset from them say; Band the readings within
	// Sigmas smoothed standard deviations of Expected.
	Observed, Expected float64
	Band               schemas.Band
	// Departure is the smoothed departure from the usual one, relative
	// (-0.05: 5 % below), and Sigma its standard deviation.
	Departure, Sigma float64
	// Since is the TS of the round the alert fired at (on Fired, TS).
	Since int64
}

// Kind returns the group's kind.
func (g *Group) Kind() Kind { return g.kind }

// Members returns how many members the group holds.
func (g *Group) Members() int { return len(g.members) }

// Add takes the value v at ts of member name's gauge of metric (Classify
// gives g's kind for it) and appends to out the alerts that changed.
// Values that are not finite are ignored, as are a fan's negative speed
// and a power supply's readings that do not give a positive efficiency.
func (g *Group) Add(name, metric string, ts int64, v float64, out []Change) []Change {
	at := -1
	return g.AddAt(&at, name, metric, ts, v, out)
}

// AddAt is Add with *at a guess of the member's index in the group, such
// as the one AddAt left there on the member's previous reading: it is
// checked, and only a wrong guess costs the search by name. AddAt sets
// *at to the member's index.
func (g *Group) AddAt(at *int, name, metric string, ts int64, v float64, out []Change) []Change {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return out
	}
	i := g.find(*at, name)
	*at = i
	m := &g.members[i]
	x, ok := m.reading(g.kind, metric, ts, v)
	if !ok {
		return out
	}
	if m.in {
		out = g.close(out) // may forget members before it
		*at = g.find(i, name)
		m = &g.members[*at]
	}
	m.x, m.in, g.roundTS = x, true, max(g.roundTS, ts)
	for j := range g.members {
		if !g.members[j].in {
			return out
		}
	}
	return g.close(out)
}

// find returns the index of member name, added if new; at is a guess,
// checked first (a name compared with its own string is one pointer
// comparison).
func (g *Group) find(at int, name string) int {
	if uint(at) < uint(len(g.members)) && g.members[at].name == name {
		return at
	}
	i, ok := slices.BinarySearchFunc(g.members, name, func(m member, n string) int { return compareNames(m.name, n) })
	if !ok {
		g.members = slices.Insert(g.members, i, member{name: name})
	}
	return i
}

// reading returns the member's reading from v, a value of metric at ts,
// once it has one: a fan's speed; a power supply's output over its input
// power once the readings of one timestamp give both.
func (m *member) reading(k Kind, metric string, ts int64, v float64) (float64, bool) {
	if k == Fan {
		return v, v >= 0
	}
	if ts != m.partTS {
		m.partTS, m.parts = ts, 0
	}
	switch metric {
	case schemas.MetricPSUOutPower:
		m.out, m.parts = v, m.parts|partOut
	case schemas.MetricPSUInVoltage:
		m.volts, m.parts = v, m.parts|partVolts
	case schemas.MetricPSUInCurrent:
		m.amps, m.parts = v, m.parts|partAmps
	case schemas.MetricPSUInPower:
		m.inW, m.parts = v, m.parts|partInW
	}
	in := 0.0
	switch {
	case m.parts&partOut == 0:
		return 0, false
	case m.parts&partInW != 0:
		in = m.inW
	case m.parts&(partVolts|partAmps) == partVolts|partAmps:
		in = m.volts * m.amps
	default:
		return 0, false
	}
	m.parts = 0 // one reading per timestamp
	x := m.out / in
	return x, x > 0 && !math.IsInf(x, 0) // in > 0, not infinite, and no NaN
}

// close judges the round's readings and starts the next round.
func (g *Group) close(out []Change) []Change {
	g.sorted = g.sorted[:0]
	for i := range g.members {
		if g.members[i].in {
			g.sorted = append(g.sorted, g.members[i].x)
		}
	}
	slices.Sort(g.sorted)
	judge := len(g.sorted) >= 2
	hold := false
	for i := range g.members {
		hold = hold || g.members[i].st.firing
	}
	for i := range g.members {
		m := &g.members[i]
		if !m.in {
			m.missed = min(m.missed+1, math.MaxUint16)
			continue
		}
		m.in, m.missed = false, 0
		if !judge {
			continue
		}
		ref := medianWithout(g.sorted, m.x)
		if !(ref > 0) {
			continue
		}
		if ev := m.st.update(g.cfg, min(m.x/ref-1, maxDeparture), hold); ev != NoEvent {
			out = append(out, g.change(m, ev, ref))
		}
	}
	for i := 0; i < len(g.members); {
		m := &g.members[i]
		if m.missed <= forgetRounds {
			i++
			continue
		}
		if m.st.firing {
			out = append(out, Change{Member: m.name, Event: Resolved, TS: g.roundTS, Since: m.since})
		}
		g.members = slices.Delete(g.members, i, i+1)
	}
	return out
}

// change describes member m's event ev at a round whose siblings' median
// is ref.
func (g *Group) change(m *member, ev Event, ref float64) Change {
	if ev == Fired {
		m.since = g.roundTS
	}
	sd := m.st.sds(g.cfg)
	exp := ref * (1 + m.st.level)
	k := g.cfg.Sigmas * sd * ref
	return Change{Member: m.name, Event: ev, TS: g.roundTS, Observed: m.x, Expected: exp,
		Band: schemas.Band{Lower: exp - k, Upper: exp + k}, Departure: m.st.s - m.st.level, Sigma: sd, Since: m.since}
}

// medianWithout returns the median of sorted without one element equal
// to x (which it holds).
func medianWithout(sorted []float64, x float64) float64 {
	k, _ := slices.BinarySearch(sorted, x)
	at := func(j int) float64 {
		if j >= k {
			j++
		}
		return sorted[j]
	}
	n := len(sorted) - 1
	if n%2 == 1 {
		return at(n / 2)
	}
	return (at(n/2-1) + at(n/2)) / 2
}

// Last returns the time of the latest reading the group took (0: none).
func (g *Group) Last() int64 { return g.roundTS }

// Gone appends to out a Resolved change at ts for each member whose alert
// fires, and ends those alerts: the caller drops the group, whose device
// stopped reporting (no round closes without a reading, so no member is
// forgotten on its own).
func (g *Group) Gone(ts int64, out []Change) []Change {
	for i := range g.members {
		m := &g.members[i]
		if m.st.firing {
			m.st.firing, m.st.run = false, 0
			out = append(out, Change{Member: m.name, Event: Resolved, TS: ts, Since: m.since})
		}
	}
	return out
}

// Firing returns the members whose alert fires, by name.
func (g *Group) Firing() []string {
	var out []string
	for i := range g.members {
		if g.members[i].st.firing {
			out = append(out, g.members[i].name)
		}
	}
	return out
}

// The tag and version of a Group's binary record.
const (
	groupTag     = 0x70
	groupVersion = 1
)

// maxMembers bounds the members a record may announce.
const maxMembers = 1 << 12

// AppendBinary appends g's state: tag, version, kind (byte), roundTS
// (varint), the member count (uvarint) and per member its name (length
// uvarint and bytes), x (f64), in (byte), missed (uvarint), partTS
// (varint), out, volts, amps, inW (f64), parts (byte), since (varint),
// and its judgement:
// n (uvarint), r1, r2, s, level, vr, vs (f64), run (uvarint), firing (byte). The
// configuration is not stored.
func (g *Group) AppendBinary(dst []byte) ([]byte, error) {
	dst = binenc.AppendHeader(dst, groupTag, groupVersion)
	dst = append(dst, byte(g.kind))
	dst = binenc.AppendI(dst, g.roundTS)
	dst = binenc.AppendU(dst, uint64(len(g.members)))
	for i := range g.members {
		m := &g.members[i]
		dst = binenc.AppendU(dst, uint64(len(m.name)))
		dst = append(dst, m.name...)
		dst = binenc.AppendF64(dst, m.x)
		dst = binenc.AppendBool(dst, m.in)
		dst = binenc.AppendU(dst, uint64(m.missed))
		dst = binenc.AppendI(dst, m.partTS)
		for _, f := range [...]float64{m.out, m.volts, m.amps, m.inW} {
			dst = binenc.AppendF64(dst, f)
		}
		dst = append(dst, m.parts)
		dst = binenc.AppendI(dst, m.since)
		dst = binenc.AppendU(dst, uint64(m.st.n))
		for _, f := range [...]float64{m.st.r1, m.st.r2, m.st.s, m.st.level, m.st.vr, m.st.vs} {
			dst = binenc.AppendF64(dst, f)
		}
		dst = binenc.AppendU(dst, uint64(m.st.run))
		dst = binenc.AppendBool(dst, m.st.firing)
	}
	return dst, nil
}

// errRecord marks a record Decode cannot read.
var errRecord = errors.New("cannot decode peer group state")

// Decode restores g's state (not its configuration) from the front of b,
// a record of AppendBinary, and returns the rest of b.
func (g *Group) Decode(b []byte) ([]byte, error) {
	r := binenc.Reader{B: b}
	r.Header(groupTag, groupVersion)
	kind := Kind(r.Byte())
	roundTS := r.I()
	n := r.U()
	if r.Err == nil && (n > maxMembers || kind == None || kind > PSU) {
		return nil, fmt.Errorf("%w: kind %d, %d members", errRecord, kind, n)
	}
	var ms []member
	for range n {
		m, err := decodeMember(&r)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if r.Err != nil {
		return nil, fmt.Errorf("%w: %w", errRecord, r.Err)
	}
	if !slices.IsSortedFunc(ms, func(a, b member) int { return compareNames(a.name, b.name) }) {
		return nil, fmt.Errorf("%w: members out of order", errRecord)
	}
	*g = Group{cfg: g.cfg, kind: kind, members: ms, roundTS: roundTS}
	return r.B, nil
}

// compareNames orders members by name.
func compareNames(a, b string) int { return strings.Compare(a, b) }

// decodeMember reads one member of a Group record.
func decodeMember(r *binenc.Reader) (member, error) {
	var m member
	l := r.U()
	if r.Err != nil || l > uint64(len(r.B)) {
		return m, fmt.Errorf("%w: a name of %d bytes", errRecord, l)
	}
	m.name, r.B = string(r.B[:l]), r.B[l:]
	m.x = r.F64()
	m.in = r.Bool()
	missed := r.U()
	m.partTS = r.I()
	m.out, m.volts, m.amps, m.inW = r.F64(), r.F64(), r.F64(), r.F64()
	m.parts = r.Byte()
	m.since = r.I()
	n := r.U()
	m.st.r1, m.st.r2 = r.F64(), r.F64()
	m.st.s, m.st.level, m.st.vr, m.st.vs = r.F64(), r.F64(), r.F64(), r.F64()
	run := r.U()
	m.st.firing = r.Bool()
	if r.Err != nil {
		return m, fmt.Errorf("%w: %w", errRecord, r.Err)
	}
	if missed > math.MaxUint16 || n > math.MaxUint32 || run > math.MaxUint16 || !finite(m.x, m.out, m.volts, m.amps, m.inW) ||
		!departures(m.st.r1, m.st.r2, m.st.s, m.st.level) || !variances(m.st.vr, m.st.vs) {
		return m, fmt.Errorf("%w: values out of range", errRecord)
	}
	m.missed, m.st.n, m.st.run = uint16(missed), uint32(n), uint16(run)
	return m, nil
}

// finite reports whether every value of vs is finite.
func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// departures reports whether every value of vs is a departure the live
// path can reach: within [-1, maxDeparture], and so are their means.
func departures(vs ...float64) bool {
	for _, v := range vs {
		if !(v >= -1 && v <= maxDeparture) {
			return false
		}
	}
	return true
}

// variances reports whether every value of vs is a variance of such
// departures.
func variances(vs ...float64) bool {
	for _, v := range vs {
		if !(v >= 0 && v <= (maxDeparture+1)*(maxDeparture+1)) {
			return false
		}
	}
	return true
}
