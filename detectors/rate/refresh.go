package rate

import (
	"fmt"
	"math"

	"github.com/telekernel/telekernel/internal/binenc"
)

// Limits of Refresh.
const (
	// RefreshGaps is how many of a counter's latest gaps (samples from one
	// change of value to the next) Refresh learns from.
	RefreshGaps = 8
	// RefreshMinGaps is how many gaps Refresh needs before it holds a
	// sample.
	RefreshMinGaps = 3
	// RefreshMaxHold is the longest gap, in samples, that can be a
	// device's refresh, and so the most still samples in a row Refresh
	// holds.
	RefreshMaxHold = 12
	// RefreshMaxHoldNS is the longest time Refresh holds a counter's
	// last change: five minutes.
	RefreshMaxHoldNS = int64(300e9)
)

// Refresh learns how often a counter's device refreshes the value it
// reports, so that a counter sampled faster than it is refreshed (an
// interface counter the device updates every 30 s, polled or streamed every
// 10 s) gives one rate per refresh instead of a rate of 0 on most samples
// and a multiple of the real rate on the others. Such zeros are common on
// real devices, and they are why a link going down was not seen on those
// counters: when two of every three rates are 0, a link carrying no traffic
// looks like the series' usual self.
//
// It keeps the gaps, in samples, between the last RefreshGaps changes of
// the counter's value, and the mean time between its changes (the refresh
// period). When the gaps are regular and 2 or more (see hold: a device's
// refresh; one long gap, a link that was idle a while, is forgiven), the
// counter holds: a still sample is held (Held: no rate) while its gap
// could still be a refresh, one poll late at most (as many still samples
// as the longest regular gap), the next change's rate is its
// increase over the whole number of refresh periods nearest to the time
// since the last change, and a still sample past the hold (or
// RefreshMaxHoldNS after the last change) is a rate of 0. A counter read
// every 10 s whose device refreshes it every 30 s (gaps 3, 3, 3) holds two
// samples in a row and gives its rate over 30 s on the third, also when
// jitter moves a refresh a poll early or late (gaps of 2 and 4); a link on
// it going down shows on the first refresh that carries (almost) no
// traffic, and a link carrying none at all on the fourth still sample.
//
// A counter that changes on every sample, or on two samples in a row now
// and then (a link with sparse traffic: holding would make its rare zeros
// look like a link going quiet), or irregularly (an error counter), does
// not hold: its rates are exactly Counter.Update's.
//
// The zero value is ready to use. It is not safe for concurrent use.
type Refresh struct {
	seen    int64 // the latest sample's time, a held one's too
	changed int64 // the time of the last change of value (or the first sample, or a reset)
	// The refresh period is (changed − anchor) / changes: the mean time
	// between changes over the regular gaps since anchor, which the
	// others (and resets) move forward by their length (see Update).
	anchor  int64
	changes uint32
	held    uint16
	gaps    [RefreshGaps]uint8
	n, i    uint8 // gaps recorded, and the next one's place
	h       uint8 // hold(), kept as the gaps change
	// late: the last change was the first one seen after samples went
	// missing (see Update), so the gap it starts is no whole refresh.
	late bool
}

// Update feeds one sample of the counter c through r and returns the rate
// and what was done. A sample that is the counter's first, a reset or
// stale is c.Update's. While the counter holds (hold > 1):
//   - the first hold still samples since the last change are (0, Held);
//   - a still sample after them (or RefreshMaxHoldNS after the last
//     change) is a rate of 0 (OK), and c keeps the last change;
//   - a change is the increase since the last change over the whole
//     number of refresh periods nearest to the time since it (at least
//     one), so a refresh read one poll early or late gives the rate of its
//     period, not 1.5 or 0.75 times it.
//
// Otherwise every sample is c.Update's.
//
// A change that comes RefreshMaxHoldNS or more after the sample before it
// (samples went missing) counts in neither the refresh period nor the
// gaps, nor does the next change (its gap starts at a refresh seen late).
func (r *Refresh) Update(c *Counter, ts int64, v uint64) (float64, Result) {
	prev := max(r.seen, c.LastTS)
	if c.LastTS != 0 && ts <= prev {
		return 0, Stale
	}
	r.seen = ts
	if r.changed == 0 && c.LastTS != 0 {
		// c was restored without r (a record written before Refresh, or
		// after c's first sample only): its last sample is the last
		// change known, and the period is measured from it.
		r.changed, r.anchor = c.LastTS, c.LastTS
	}
	h := int(max(r.h, 1))
	switch {
	case c.LastTS == 0 || v < c.Last:
		// The first sample, or a reset: the time since the last change is
		// no refresh.
		r.anchor += ts - r.changed
		r.held, r.changed, r.late = 0, ts, false
		return c.Update(ts, v)
	case v > c.Last:
		// g: samples since the last change; dt: the time since it (c.LastTS
		// may be a still sample's).
		g, dt, delta := int(r.held)+1, ts-r.changed, v-c.Last
		x, res := c.Update(ts, v)
		if p := r.period(); h > 1 && p > 0 {
			k := max(1, math.Round(float64(dt)/p))
			x = float64(delta) / (k * p / 1e9)
		}
		// Samples missing for RefreshMaxHoldNS or more before this one (a
		// collector's outage): the time since the last change is no
		// refresh, its gap in samples tells nothing, and this change may
		// be a refresh seen late, so the next gap is not whole either.
		lost, partial := ts-prev >= RefreshMaxHoldNS, r.late
		r.held, r.changed, r.late = 0, ts, lost
		switch {
		case lost || partial:
			r.anchor += dt
			return x, res
		case g <= RefreshMaxHold && (h == 1 || g <= h+1):
			// A gap of the refresh, not a stretch with no traffic.
			r.changes++
			if r.changes == refreshMaxChanges {
				r.anchor += (ts - r.anchor) / 2
				r.changes /= 2
			}
		default:
			r.anchor += dt // a stretch with no traffic is no refresh
		}
		r.note(g)
		return x, res
	}
	if r.held < math.MaxUint16 {
		r.held++
	}
	if h == 1 {
		return c.Update(ts, v)
	}
	if int(r.held) <= h {
		if ts-c.LastTS < RefreshMaxHoldNS {
			return 0, Held
		}
		r.held = math.MaxUint16 // still from now on, and a long gap
	}
	return 0, OK
}

// refreshLate is the bit of the record's gap index that is Refresh.late.
const refreshLate = 0x80

// refreshForgiven is how many of the recorded gaps may be longer than
// the regular ones (stretches without traffic) for the counter to hold.
const refreshForgiven = 2

// refreshMaxChanges is how many changes the refresh period is the mean
// of at most: past it, the older half is dropped, so the period follows a
// device whose refresh changes.
const refreshMaxChanges = 64

// period returns the learned refresh period in ns, 0 before a change.
func (r *Refresh) period() float64 {
	if r.changes == 0 {
		return 0
	}
	return float64(r.changed-r.anchor) / float64(r.changes)
}

// note records a gap of g samples between two changes.
func (r *Refresh) note(g int) {
	r.gaps[r.i] = uint8(min(g, 255))
	r.i = (r.i + 1) % RefreshGaps
	if r.n < RefreshGaps {
		r.n++
	}
	r.h = uint8(r.hold())
}

// hold returns how many still samples in a row, counting from the last
// change, are held: the longest regular gap, so a refresh one poll late
// is no rate of 0, or 1 when the counter does not hold (Update reads that
// as "no still sample is held"). When at least RefreshMinGaps gaps are
// recorded and the shortest, lo, is 2 or more, the regular ones are those
// at most twice it and at most RefreshMaxHold (a refresh period that does
// not divide the poll interval gives gaps of two lengths, and jitter
// between the poll and the refresh three); up to refreshForgiven longer
// ones (a link idle a while, twice) are forgiven. So a counter that ever
// changed on two samples in a row (sparse traffic: a packet now and
// then), or with more long gaps than that, is Counter.Update's.
func (r *Refresh) hold() int {
	if r.n < RefreshMinGaps {
		return 1
	}
	lo := 255
	for _, g := range r.gaps[:r.n] {
		lo = min(lo, int(g))
	}
	hi, long := 0, 0
	for _, g := range r.gaps[:r.n] {
		if g := int(g); g > 2*lo || g > RefreshMaxHold {
			long++
		} else {
			hi = max(hi, g)
		}
	}
	if lo < 2 || long > refreshForgiven || int(r.n)-long < RefreshMinGaps-1 {
		return 1
	}
	return hi
}

// Seen returns the time of the latest sample r took, held or not; 0
// before the first.
func (r *Refresh) Seen() int64 { return r.seen }

// Holding reports whether r has learned anything to keep: a gap or a held
// sample. A Refresh that has not needs no record.
func (r *Refresh) Holding() bool { return r.n != 0 || r.held != 0 }

// AppendBinary appends r's state:
//
//	seen varint | changed varint | anchor varint | changes uvarint | held uvarint |
//	n u8 | i u8 (its high bit: late) | n gaps u8
func (r *Refresh) AppendBinary(dst []byte) ([]byte, error) {
	dst = binenc.AppendI(dst, r.seen)
	dst = binenc.AppendI(dst, r.changed)
	dst = binenc.AppendI(dst, r.anchor)
	dst = binenc.AppendU(dst, uint64(r.changes))
	dst = binenc.AppendU(dst, uint64(r.held))
	i := r.i
	if r.late {
		i |= refreshLate
	}
	dst = append(dst, r.n, i)
	return append(dst, r.gaps[:r.n]...), nil
}

// Decode restores r from the front of b, as AppendBinary wrote it, and
// returns the rest.
func (r *Refresh) Decode(b []byte) ([]byte, error) {
	rd := binenc.Reader{B: b}
	seen, changed, anchor, changes, held := rd.I(), rd.I(), rd.I(), rd.U(), rd.U()
	n, i := rd.Byte(), rd.Byte()
	if rd.Err != nil {
		return nil, fmt.Errorf("cannot decode counter refresh state: %w", rd.Err)
	}
	late := i&refreshLate != 0
	i &^= refreshLate
	if anchor > changed || changes >= refreshMaxChanges || held > math.MaxUint16 || n > RefreshGaps || i >= RefreshGaps || int(n) > len(rd.B) {
		return nil, fmt.Errorf("cannot decode counter refresh state: held %d, %d gaps at %d, %d bytes left", held, n, i, len(rd.B))
	}
	*r = Refresh{seen: seen, changed: changed, anchor: anchor, changes: uint32(changes), held: uint16(held), n: n, i: i, late: late}
	copy(r.gaps[:], rd.B[:n])
	r.h = uint8(r.hold())
	return rd.B[n:], nil
}
