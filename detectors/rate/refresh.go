package rate

import (
	"fmt"
	"math"
	"slices"

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
// not hold: its rates are exactly Counter.Update's. The exception is a
// refresh of two polls in step with them (20 s read every 10 s), which
// jitter lands a poll early or late: gaps of 1, 2 and 3 that lie on the
// grid of its period (gridHold).
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
	// rate: the counter's rate up to its last change (over the interval
	// before it, a still one's 0 when it does not hold), kept while its
	// value could wrap (keepRate); what a decrease is checked against to
	// be a wrap (wrap).
	rate float64
	// pre, preTS: the counter's last value and time before a decrease
	// that was no wrap, until the next sample tells whether it was a
	// reset or a glitch (preTS 0: none pending).
	pre   uint64
	preTS int64
	// glitched: the last sample told a glitch (the value before it was
	// read wrong), so the next climb of a counter below 2^32 by half that
	// range or more is the counter's own (see high32). Set with a
	// decrease pending, the value it rebased c on below pre, it is a
	// decrease right after a glitch, which the next sample may tell a wrap
	// the glitch's rate left out (missedWrap).
	glitched bool
}

// Update feeds one sample of the counter c through r and returns the rate
// and what was done. A sample that is the counter's first, a reset or
// stale is c.Update's, except that a decrease a wrap explains is one
// (wrap), and a decrease the next sample undoes (the counter back at or
// above its value before it, or past it through a wrap: an agent that
// read 0, or a little less, once) was a glitch: the next sample is taken
// as if the glitch were a
// still sample, so its rate is the counter's over both intervals. A value
// half the range or more above the last (2^64-1, an agent's -1; behind)
// is such a decrease, no increase, and so is a Counter32's -1 (2^32-1),
// or a value of a counter below 2^32 that is 2^31 or more above the last
// when its last rate does not explain it (high32). While
// the counter holds (hold > 1):
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
// A counter that changed on RefreshGaps+1 samples in a row and then holds
// at a poll interval well under its period learns the period anew
// (pollsFaster).
func (r *Refresh) Update(c *Counter, ts int64, v uint64) (float64, Result) {
	prev := max(r.seen, c.LastTS)
	if c.LastTS != 0 && ts <= prev {
		return 0, Stale
	}
	r.seen = ts
	// afterGlitch: the decrease pending came right after a glitch (no
	// other decrease pending leaves glitched set: one whose sample told a
	// glitch climbed from it).
	afterGlitch := r.glitched && r.preTS != 0 && c.Last < r.pre
	glitched := r.glitched && !afterGlitch
	r.glitched = false
	if r.changed == 0 && c.LastTS != 0 {
		// c was restored without r (a record written before Refresh, or
		// after c's first sample only): its last sample is the last
		// change known, and the period is measured from it.
		r.changed, r.anchor = c.LastTS, c.LastTS
	}
	missed := 0.0 // the counter's rate when the glitch's left a wrap out (missedWrap)
	if r.preTS != 0 {
		// The sample after a reset: the reset was a glitch when the
		// counter is back at or above its value before it (the glitch is
		// then a still sample), or below it by a wrap since, else it was
		// one.
		glitch := !behind(r.pre, v)
		if !glitch {
			_, glitch = r.wrap(&Counter{LastTS: r.preTS, Last: r.pre}, ts, v)
		}
		if d, ok := r.missedWrap(c, ts, v); glitch && afterGlitch && ok {
			missed = float64(d) / (float64(ts-r.preTS) / 1e9)
		}
		if glitch {
			r.glitched = true
			c.LastTS, c.Last = r.preTS, r.pre
			c.Resets--
			if r.held < math.MaxUint16 {
				r.held++
			}
		} else {
			r.reset(c.LastTS)
		}
		r.pre, r.preTS = 0, 0
	}
	h := int(max(r.h, 1))
	delta, wrapped := r.wrap(c, ts, v)
	switch {
	case c.LastTS == 0:
		// The first sample: the time since the last change is no refresh.
		r.reset(ts)
		return c.Update(ts, v)
	case behind(c.Last, v) && !wrapped, r.high32(c, ts, v, glitched):
		// A reset, or a glitch: which one, the next sample tells (above),
		// which Refresh learns from as it would have without it. So is
		// a value half the range or more above the last (2^64-1, an
		// agent's -1), or a Counter32's -1 (high32): no count, and no
		// rate.
		r.pre, r.preTS = c.Last, c.LastTS
		if glitched && v < c.Last {
			r.glitched = true // a decrease right after a glitch (missedWrap)
		}
		return c.rebase(ts, v)
	case v > c.Last || wrapped:
		// g: samples since the last change; dt: the time since it (c.LastTS
		// may be a still sample's).
		g, dt := int(r.held)+1, ts-r.changed
		if !wrapped {
			delta = v - c.Last
		}
		// As c.Update, through a wrap too.
		x, res := float64(delta)/(float64(ts-c.LastTS)/1e9), OK
		c.LastTS, c.Last = ts, v
		r.keepRate(v, x)
		if missed > 0 {
			// The rate the next wrap or climb is checked against; this
			// sample's stays the glitch's, as before (missedWrap).
			r.rate = missed
		}
		lost, partial := ts-prev >= RefreshMaxHoldNS, r.late
		if p := r.period(); h > 1 && p > 0 {
			k, ok := r.gridPeriods(g)
			if !ok || lost || partial { // samples went missing: the time tells
				k = max(1, math.Round(float64(dt)/p))
			}
			x = float64(delta) / (k * p / 1e9)
		}
		// Samples missing for RefreshMaxHoldNS or more before this one (a
		// collector's outage): the time since the last change is no
		// refresh, its gap in samples tells nothing, and this change may
		// be a refresh seen late, so the next gap is not whole either.
		r.held, r.changed, r.late = 0, ts, lost
		switch {
		case lost || partial:
			r.anchor += dt
			return x, res
		case g <= RefreshMaxHold && (h == 1 || g <= h+1):
			// A gap of the refresh, not a stretch with no traffic.
			if g > 1 && r.pollsFaster(g, dt) {
				r.anchor, r.changes = r.changed-dt, 0
			}
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
		x, res := c.Update(ts, v)
		r.keepRate(v, x)
		return x, res
	}
	if int(r.held) <= h {
		if ts-c.LastTS < RefreshMaxHoldNS {
			return 0, Held
		}
		r.held = math.MaxUint16 // still from now on, and a long gap
	}
	return 0, OK
}

// reset notes a reset (or the first sample) at ts: the time since the
// last change is no refresh.
func (r *Refresh) reset(ts int64) {
	r.anchor += ts - r.changed
	r.held, r.changed, r.late, r.rate = 0, ts, false, 0
}

// refreshLate is the bit of the record's gap index that is Refresh.late.
const refreshLate = 0x80

// refreshRate is the bit of the record's gap index that says the record
// holds Refresh.rate, refreshPending that it ends with Refresh.pre and
// preTS, and refreshGlitched is Refresh.glitched.
const (
	refreshRate     = 0x40
	refreshPending  = 0x20
	refreshGlitched = 0x10
)

// Wraps: a counter's value below wrap32 may be a Counter32's (SNMP's
// ifInOctets) and wrap there; one from wrap64From on may wrap at 2^64.
const (
	wrap32     = 1 << 32
	wrap64From = 1 << 63
)

// wrapTolerance is how far, as a factor either way, the increase of a
// wrap may be from the one the counter's last rate gives over its time.
const wrapTolerance = 4

// wrap returns the increase of a counter read v after c.Last, lower, and
// whether it wrapped: at 2^32 when both are below it, at 2^64 when the
// last is from 2^63 on, with an increase within wrapTolerance of what the
// counter's last rate (r.rate) adds over the time since c.LastTS. Any
// other decrease is a reset (a clear, a reboot: the value back near 0,
// not where the rate would have carried it), and so is one with no last
// rate to check it against (the first increase after a reset, a link that
// carried nothing). A value of 0 is never a wrap: it is what an agent
// reads in a glitch (or a clear), and a glitch taken for a wrap made the
// next sample's increase from 0 the whole counter, a spike; the next
// sample tells (Update). A reset taken for a wrap gives a rate within
// wrapTolerance of the last one, never a spike.
func (r *Refresh) wrap(c *Counter, ts int64, v uint64) (uint64, bool) {
	if c.LastTS == 0 || v >= c.Last || v == 0 || r.rate <= 0 || ts <= c.LastTS {
		return 0, false
	}
	var d uint64
	switch {
	case c.Last < wrap32:
		d = wrap32 - c.Last + v
	case c.Last >= wrap64From && v < wrap64From:
		d = v - c.Last // modulo 2^64
	default:
		return 0, false
	}
	return d, r.expected(d, ts-c.LastTS)
}

// expected reports whether an increase of d over dt ns is within
// wrapTolerance of what the counter's last rate adds over it.
func (r *Refresh) expected(d uint64, dt int64) bool {
	want := r.rate * float64(dt) / 1e9
	return float64(d) >= want/wrapTolerance && float64(d) <= want*wrapTolerance
}

// missedWrapTolerance is how far, as a factor either way, each increase
// missedWrap reads may be from the one it expects.
const missedWrapTolerance = 1.5

// missedWrap tells, on the sample v at ts after a decrease right after a
// glitch (c rebased on the decrease, r.pre the value before it, r.rate
// the rate the glitch told) that tells a glitch again, whether both were
// the increases of a counter below 2^32 that counts half its range or
// more a poll (a busy 10G port polled every 10 s): the decrease a wrap,
// v after it, each an increase of half the range or more, within
// missedWrapTolerance of the glitch's rate over its interval plus half
// the range, which is what that rate left out when the counter wrapped
// across the glitch (its two intervals, each about these, held one wrap
// more). It returns their sum, the increase over both intervals.
//
// Such a counter's first climb or wrap with no rate (or a wrong one) to
// explain it (after its first sample, after a rise) is a bad read, maybe,
// and the sample after it, at or above the value before it through a
// wrap, a glitch whose rate over both intervals is too low: an ambiguity
// that sample cannot resolve, nor the next decrease and the sample after
// it, v. So v's rate stays the glitch's, as before (a counter that counts
// less, read wrong twice in three samples, the second time about half
// its range off, looks the same), but the rate the next wrap or climb is
// checked against is the sum's (Update). Before, it was the glitch's, too
// low, so each next wrap was taken for a bad read too: too low a rate, or
// none, for up to 12 samples. A value of 0 is never a wrap (wrap).
func (r *Refresh) missedWrap(c *Counter, ts int64, v uint64) (uint64, bool) {
	if r.pre >= wrap32 || c.Last >= r.pre || c.Last == 0 || v >= wrap32 || r.rate <= 0 || c.LastTS <= r.preTS || ts <= c.LastTS {
		return 0, false
	}
	d1 := wrap32 - r.pre + c.Last
	d2 := v - c.Last
	if v < c.Last { // v wrapped as well
		d2 = wrap32 - c.Last + v
	}
	near := func(d uint64, dt int64) bool {
		want := r.rate*float64(dt)/1e9 + wrap32/2
		return d >= wrap32/2 && float64(d) >= want/missedWrapTolerance && float64(d) <= want*missedWrapTolerance
	}
	return d1 + d2, near(d1, c.LastTS-r.preTS) && near(d2, ts-c.LastTS)
}

// high32 reports whether v, read after c.Last, is a Counter32's bad read
// (the package's high32) that Update takes as a decrease, the next
// sample to tell: 2^32-1 always; 2^31 or more above unless the last rate
// adds about as much over the interval (expected: a Counter32 at 60 Mb/s
// read every 5 minutes), or there is no last rate to tell (an increase,
// as before), or the sample before told a glitch (glitched). Such a
// counter whose rate changed more than wrapTolerance times gives too low
// a rate, or none, for a few samples, as a wrap does then (a glitch's
// rate over both intervals leaves out a wrap; the decrease rule can take
// the wraps after it for glitches too: up to 12 samples in
// TestRefreshCounter32Surge). That rate is the last: taken for the next
// climb's too, it held that one as well, and so on, a rate 5 times too
// low for as long as a Counter32 carried 70 Mb/s polled every 5 minutes,
// before glitched; an agent does not read a counter wrong every other
// poll.
func (r *Refresh) high32(c *Counter, ts int64, v uint64, glitched bool) bool {
	if c.LastTS == 0 || !high32(c.Last, v) {
		return false
	}
	return v == wrap32-1 || r.rate > 0 && !glitched && !r.expected(v-c.Last, ts-c.LastTS)
}

// keepRate keeps x, the counter's rate up to its value v, for wrap while
// v could wrap (below wrap32 or from wrap64From on), else 0: the record
// carries it only then.
func (r *Refresh) keepRate(v uint64, x float64) {
	r.rate = 0
	if v < wrap32 || v >= wrap64From {
		r.rate = x
	}
}

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

// pollsFaster reports whether a counter that changed on every sample
// RefreshGaps times in a row (read no faster than its device refreshes
// it, so the period it learned is the poll interval) now held for g
// samples over dt, a poll interval well under that period: the polls came
// faster (a 30 s refresh read every 60 s, then every 10 s), and the
// period is learned anew from this change. Before, the mean kept the slow
// polls' gaps: the rates were 53 % of the counter's at first and more than
// 2 % off for an hour. A busy counter that stops for a few samples (a
// link flap) keeps its poll interval, and its period.
func (r *Refresh) pollsFaster(g int, dt int64) bool {
	if r.n < RefreshGaps || slices.Max(r.gaps[:]) != 1 {
		return false
	}
	return float64(dt)/float64(g) < 0.75*r.period()
}

// note records a gap of g samples between two changes.
func (r *Refresh) note(g int) {
	last := r.gaps[(r.i+RefreshGaps-1)%RefreshGaps]
	r.gaps[r.i] = uint8(min(g, 255))
	r.i = (r.i + 1) % RefreshGaps
	if r.n < RefreshGaps {
		r.n++
	}
	if g == 1 && last == 1 && r.n >= 2 {
		// Changes on three samples in a row (a busy counter, mostly):
		// two gaps of 1 in a row, which hold (gridHold) answers with 1
		// after sorting the gaps out; the same answer without it.
		r.h = 1
		return
	}
	r.h = uint8(r.hold())
}

// hold returns how many still samples in a row, counting from the last
// change, are held: the longest regular gap, so a refresh one poll late
// is no rate of 0, or 1 when the counter does not hold (Update reads that
// as "no still sample is held"). A counter with a gap of 1 holds only on
// a grid (gridHold). When at least RefreshMinGaps gaps are
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
	if lo == 1 {
		return r.gridHold()
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

// gridMaxGap is the longest regular gap of a counter on a grid (gridHold):
// a refresh of up to two polls read a poll late after one read a poll
// early.
const gridMaxGap = 3

// gridHold is hold for a counter that changed on two samples in a row (a
// gap of 1): a refresh of two polls (20 s read every 10 s) in step with
// them, which jitter between the device's refresh and the poll makes
// land one poll early or late now and then (gaps of 1, 2 and 3), or
// sparse traffic (a link carrying a packet now
// and then), whose changes come at random. The refresh's changes lie on a
// grid: each within one poll of the line of its period, so a gap of 1 is
// never next to another, and a short gap is made up by a long one.
// Sparse traffic's wander off any line. So the counter holds (the longest
// regular gap) when all RefreshGaps gaps are recorded, none are
// consecutive gaps of 1, the regular ones (at most gridMaxGap) lie
// within one sample of a line (gridFit) between the (up to
// refreshForgiven) longer ones, which start a new line (a link idle a
// while), and their mean is gridMinPeriod or more; else 1.
func (r *Refresh) gridHold() int {
	if r.n < RefreshGaps {
		return 1
	}
	all := r.chrono()
	gs := all[:r.n]
	hi, long, prev, from := 0, 0, 0, 0
	for j, g := range gs {
		g := int(g)
		if g == 1 && prev == 1 {
			return 1
		}
		prev = g
		if g <= gridMaxGap {
			hi = max(hi, g)
			continue
		}
		if long++; long > refreshForgiven {
			return 1
		}
		if w, _, _, _ := gridFit(gs[from:j]); w > 1 {
			return 1
		}
		from = j + 1
	}
	if w, _, _, _ := gridFit(gs[from:]); w > 1 || int(r.n)-long < RefreshMinGaps-1 {
		return 1
	}
	sum := 0
	for _, g := range gs {
		if g <= gridMaxGap {
			sum += int(g)
		}
	}
	if float64(sum) < gridMinPeriod*float64(int(r.n)-long) {
		return 1
	}
	return hi
}

// gridMinPeriod is the shortest refresh, in polls (the mean regular gap),
// that gridHold holds: a refresh of 1.5 polls (15 s read every 10 s)
// with jitter changes on three samples in a row now and then, and would
// hold on and off; its rates (1.5 times the rate on two samples of three,
// 0 on the third) are left as they are.
const gridMinPeriod = 1.75

// gridPeriods returns, for a counter that holds on a grid (gridHold), how
// many of its refresh periods a change g samples after the last one spans: the
// whole number that puts it nearest the middle of the grid's band, after
// the last change's place in it (a change after one seen a poll early is
// one period away even when it is three polls away at 20 s, where the
// time since it, 1.5 periods, tells nothing); ok is false for a counter
// not on a grid (the time since the last change tells), or when the
// last gap was a long one.
func (r *Refresh) gridPeriods(g int) (k float64, ok bool) {
	if r.h <= 1 || r.n < RefreshGaps || slices.Min(r.gaps[:]) != 1 {
		return 0, false
	}
	all := r.chrono()
	gs := all[:r.n]
	from := 0
	for j, g := range gs {
		if g > gridMaxGap {
			from = j + 1
		}
	}
	if len(gs)-from < 2 {
		return 0, false
	}
	_, slope, dev, mid := gridFit(gs[from:])
	// Half way between two counts (a gap of 3 at 20 s after changes
	// seen alike), the fewer periods: the device refreshed in between
	// while the link carried traffic, so a change was due at each.
	return max(1, math.Ceil((dev+float64(g)-mid)/slope-0.5)), true
}

// chrono returns the recorded gaps, the oldest first, in the first r.n
// places of an array (no allocation: hold runs on every change).
func (r *Refresh) chrono() (gs [RefreshGaps]uint8) {
	start := (int(r.i) + RefreshGaps - int(r.n)) % RefreshGaps
	for j := range int(r.n) {
		gs[j] = r.gaps[(start+j)%RefreshGaps]
	}
	return gs
}

// gridFit fits a line to the places of a run of changes (0, then the sums
// of the gaps gs, against their number) so that they lie in the narrowest
// band about it: the band's width (in samples), the line's slope (the
// refresh period in samples), the last change's distance from the line,
// and the middle of the band. The narrowest band's line runs parallel to
// a line through two of the places, so every pair is tried (at most 36,
// once per change of a counter whose gaps are all 3 or less, with a 1 and
// no two 1s in a row). With no gap: all 0.
func gridFit(gs []uint8) (width, slope, dev, mid float64) {
	if len(gs) == 0 {
		return 0, 0, 0, 0
	}
	var pos [RefreshGaps + 1]float64
	for j, g := range gs {
		pos[j+1] = pos[j] + float64(g)
	}
	n := len(gs) + 1
	width = math.Inf(1)
	for a := range n {
		for b := a + 1; b < n; b++ {
			s := (pos[b] - pos[a]) / float64(b-a)
			lo, hi := math.Inf(1), math.Inf(-1)
			for j := range n {
				d := pos[j] - float64(j)*s
				lo, hi = min(lo, d), max(hi, d)
			}
			if hi-lo < width {
				width, slope, dev, mid = hi-lo, s, pos[n-1]-float64(n-1)*s, (lo+hi)/2
			}
		}
	}
	return width, slope, dev, mid
}

// Pending returns the time of the sample before a decrease whose next
// sample has yet to tell a reset from a glitch; 0 when none is pending.
// After a glitch (the Counter's Resets back down), the rate Update gives
// spans the time since then.
func (r *Refresh) Pending() int64 { return r.preTS }

// Seen returns the time of the latest sample r took, held or not; 0
// before the first.
func (r *Refresh) Seen() int64 { return r.seen }

// Glitched reports whether the last sample told a glitch, which the next
// climb of a counter below 2^32 reads (high32): for one sample. A record
// holding it is one builds before it do not read (AppendBinary), so a
// caller that versions its records may give it a version of its own.
func (r *Refresh) Glitched() bool { return r.glitched }

// Holding reports whether r has learned anything to keep: a gap, a held
// sample, a decrease pending, the last rate of a value that could wrap
// (a counter polled every RefreshMaxHoldNS or more records no gap) or a
// change seen late (before its first gap, after an outage). A Refresh
// that has not needs no record.
func (r *Refresh) Holding() bool {
	return r.n != 0 || r.held != 0 || r.preTS != 0 || r.rate != 0 || r.late || r.glitched
}

// AppendBinary appends r's state:
//
//	seen varint | changed varint | anchor varint | changes uvarint | held uvarint |
//	n u8 | i u8 (its high bit: late; 0x40: a rate follows; 0x20: a decrease pending;
//	0x10: glitched) | n gaps u8 | [rate f64] | [pre uvarint | preTS varint]
//
// A record without a rate (the counter's value cannot wrap, or it has no
// rate) and no decrease pending is the one builds before the wraps and
// glitches wrote. One with glitched (for one sample after a glitch) a
// build before it does not read: it refuses the record (Glitched).
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
	if r.rate != 0 {
		i |= refreshRate
	}
	if r.preTS != 0 {
		i |= refreshPending
	}
	if r.glitched {
		i |= refreshGlitched
	}
	dst = append(dst, r.n, i)
	dst = append(dst, r.gaps[:r.n]...)
	if r.rate != 0 {
		dst = binenc.AppendF64(dst, r.rate)
	}
	if r.preTS != 0 {
		dst = binenc.AppendI(binenc.AppendU(dst, r.pre), r.preTS)
	}
	return dst, nil
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
	late, hasRate, pending, glitched := i&refreshLate != 0, i&refreshRate != 0, i&refreshPending != 0, i&refreshGlitched != 0
	i &^= refreshLate | refreshRate | refreshPending | refreshGlitched
	if anchor > changed || changed > seen {
		// A change comes no later than the sample it was seen in, and the
		// period's anchor no later than the change: Update, given a state
		// out of that order, would move the change before its anchor.
		return nil, fmt.Errorf("cannot decode counter refresh state: its times are out of order (anchor %d, last change %d, last sample %d)", anchor, changed, seen)
	}
	if changes >= refreshMaxChanges || held > math.MaxUint16 || n > RefreshGaps || i >= RefreshGaps || int(n) > len(rd.B) {
		return nil, fmt.Errorf("cannot decode counter refresh state: held %d, %d gaps at %d, %d bytes left", held, n, i, len(rd.B))
	}
	*r = Refresh{seen: seen, changed: changed, anchor: anchor, changes: uint32(changes), held: uint16(held), n: n, i: i, late: late, glitched: glitched}
	copy(r.gaps[:], rd.B[:n])
	rd.B = rd.B[n:]
	if hasRate {
		if r.rate = rd.F64(); rd.Err != nil || !(r.rate > 0) || math.IsInf(r.rate, 1) {
			return nil, fmt.Errorf("cannot decode counter refresh state: rate %v: %v", r.rate, rd.Err)
		}
	}
	if pending {
		// The decrease came after the value before it, and was seen.
		if r.pre, r.preTS = rd.U(), rd.I(); rd.Err != nil || r.preTS == 0 || r.preTS >= r.seen {
			return nil, fmt.Errorf("cannot decode counter refresh state: decrease pending at %d: %v", r.preTS, rd.Err)
		}
	}
	r.h = uint8(r.hold())
	return rd.B, nil
}
