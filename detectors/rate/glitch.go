package rate

import (
	"fmt"

	"github.com/telekernel/telekernel/internal/binenc"
)

// Glitch tells a glitch from a reset, as Refresh does, on a counter whose
// every sample gives a rate (Counter.Update's: an error counter, whose
// quiet rule reads every interval, holds nothing): a value behind the last
// (lower, or 2^64-1 and the like: behind), or a Counter32's bad read
// above it (2^32-1, or 2^31 or more above: high32), is no rate (Reset)
// until the next sample tells. Back at or above the value before it, the
// counter did not reset: an agent read it wrong once, and the next rate
// is the counter's over both intervals (so is a real climb of 2^31, one
// sample late). Else it was a reset, and the next rate counts from it.
// Taken for a reset, a read of 0 would make the next rate the whole
// counter over one interval (months of errors in 10 s), a point that
// blinds the ensemble's baselines to the next burst of errors; taken for
// an increase, a read of 2^32-1 was alike.
//
// The zero value is ready to use. It is not safe for concurrent use.
type Glitch struct {
	pre   uint64 // the counter's value before the decrease
	preTS int64  // its time; 0: no decrease pending
}

// Update feeds one sample of c through g and returns the rate and what
// was done: c.Update's, but for a value behind the last or high32 above
// it (Reset, pending) and the sample after it (as Counter.Update from the
// value before the bad read, when that was a glitch).
func (g *Glitch) Update(c *Counter, ts int64, v uint64) (float64, Result) {
	if c.LastTS != 0 && ts <= c.LastTS {
		return 0, Stale
	}
	told := false // the bad read before v was a glitch
	if g.preTS != 0 {
		if !behind(g.pre, v) { // a glitch: as if it had not been read
			c.LastTS, c.Last = g.preTS, g.pre
			c.Resets--
			told = true
		}
		g.pre, g.preTS = 0, 0
	}
	// Right after a glitch, a climb of 2^31 or more from the value before
	// it is the counter's own (its rate over both intervals): held again,
	// a real climb was held at every sample after it, and never counted.
	if c.LastTS != 0 && (behind(c.Last, v) || !told && high32(c.Last, v)) {
		g.pre, g.preTS = c.Last, c.LastTS
		return c.rebase(ts, v)
	}
	return c.Update(ts, v)
}

// Pending returns the time of the sample before a decrease whose next
// sample has yet to tell a reset from a glitch; 0 when none is pending.
// After a glitch (the Counter's Resets back down), the rate Update gives
// spans the time since then.
func (g *Glitch) Pending() int64 { return g.preTS }

// AppendBinary appends g's state: pre uvarint | preTS varint.
func (g *Glitch) AppendBinary(dst []byte) ([]byte, error) {
	return binenc.AppendI(binenc.AppendU(dst, g.pre), g.preTS), nil
}

// Decode restores g from the front of b, as AppendBinary wrote it, and
// returns the rest.
func (g *Glitch) Decode(b []byte) ([]byte, error) {
	r := binenc.Reader{B: b}
	pre, preTS := r.U(), r.I()
	if r.Err != nil || preTS < 0 {
		return nil, fmt.Errorf("cannot decode counter glitch state: bad read pending at %d: %v", preTS, r.Err)
	}
	g.pre, g.preTS = pre, preTS
	return r.B, nil
}
