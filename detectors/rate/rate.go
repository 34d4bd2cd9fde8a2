// Package rate turns monotonic counter samples into per-second rates.
//
// Differences are taken in uint64, so counters above 2^53 lose no precision
// before the division. A counter that goes down is a reset (device reboot,
// counter clear, or a 64-bit wrap, which at 400 Gb/s takes 11 years): the
// sample becomes the new baseline and no rate is emitted for it, so a reset
// never shows up as a spike. Refresh (the detect stage's way) tells a wrap
// from a reset: a Counter32 exported raw, or a 64-bit counter started near
// 2^64, whose increase through the wrap is about what its last rate adds,
// gives that rate. Both Refresh and Glitch (for a counter whose every
// sample gives a rate: the detect stage's error counters) tell a glitch,
// a value read wrong once (0, 2^64-1 or a Counter32's 2^32-1), from a
// reset by the next sample.
package rate

// Counter holds the last sample of one counter series. The zero value is
// ready to use. It is not safe for concurrent use.
type Counter struct {
	LastTS int64 // Unix ns of the last accepted sample; 0 before the first
	Last   uint64
	Resets uint64 // number of resets seen
}

// Result says what Update did with a sample.
type Result uint8

// Results of Counter.Update.
const (
	// OK means a rate was computed.
	OK Result = iota
	// First means the sample is the first one and only set the baseline.
	First
	// Reset means the counter went down; the sample is the new baseline.
	Reset
	// Stale means the sample is not newer than the last one (a repeat or
	// out of order) and was ignored.
	Stale
	// Held means the value did not change on a sample where its device
	// would not have refreshed it yet (Refresh): no rate is computed, and
	// the next change is divided over the time since the last one.
	Held
)

// Update feeds one sample and returns the rate in units per second since
// the previous sample, and whether (and why not) a rate was computed.
func (c *Counter) Update(ts int64, v uint64) (float64, Result) {
	if c.LastTS == 0 {
		c.LastTS, c.Last = ts, v
		return 0, First
	}
	if ts <= c.LastTS {
		return 0, Stale
	}
	if behind(c.Last, v) {
		// Lower, or half the range or more above (2^64-1, an agent's -1
		// read once): a reset, no rate of 10^18 per second.
		return c.rebase(ts, v)
	}
	delta := v - c.Last
	dt := ts - c.LastTS
	c.LastTS, c.Last = ts, v
	return float64(delta) / (float64(dt) / 1e9), OK
}

// rebase takes v at ts as the counter's new baseline, a reset: no rate.
func (c *Counter) rebase(ts int64, v uint64) (float64, Result) {
	c.LastTS, c.Last = ts, v
	c.Resets++
	return 0, Reset
}

// halfRange is half the range of a 64-bit counter. No counter counts it
// in one interval (2^63 bytes in a second is 10^8 times a 400 Gb/s
// port's), so a value that far or farther above the last one is behind
// it modulo 2^64: 2^64-1 is an agent's -1 sent unsigned.
const halfRange = 1 << 63

// behind reports whether v, read after last, is behind it: lower, or
// halfRange or more above it.
func behind(last, v uint64) bool { return v < last || v-last >= halfRange }

// high32 reports whether v, read after last, both below 2^32 (a
// Counter32's values, maybe: SNMP's ifInErrors, or ifInOctets exported
// raw), is above it by what an agent's bad read makes of such a counter:
// 2^32-1 (its -1 sent unsigned, which a counter holds once in 2^32
// values), or half the Counter32 range or more (which one counts in a
// poll only far past the 20 Mb/s IF-MIB gives it). Taken for an increase,
// that read was a rate of up to 4.3*10^8 per second over 10 s.
func high32(last, v uint64) bool {
	return v > last && v < wrap32 && (v == wrap32-1 || v-last >= wrap32/2)
}

// UpdateWidth is Update for a counter that is bits wide (32 for SNMP's
// Counter32, 64 otherwise). A decrease that is explained by one wrap of a
// bits-wide counter with an increase of less than half its range is a wrap,
// and the rate counts through it; any other decrease is a reset (Reset),
// the new baseline, never a spike. bits of 64 or more is Update.
func (c *Counter) UpdateWidth(ts int64, v uint64, bits uint) (float64, Result) {
	if bits >= 64 || bits == 0 || c.LastTS == 0 || ts <= c.LastTS || v >= c.Last {
		return c.Update(ts, v)
	}
	mod := uint64(1) << bits
	if c.Last >= mod || v >= mod {
		return c.Update(ts, v) // not a bits-wide value: a reset
	}
	delta := mod - c.Last + v
	if delta >= mod/2 {
		return c.Update(ts, v) // too large for a wrap: a reset
	}
	dt := ts - c.LastTS
	c.LastTS, c.Last = ts, v
	return float64(delta) / (float64(dt) / 1e9), OK
}
