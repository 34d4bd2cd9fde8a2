package snmp

// counter follows one SNMP counter and turns it into the monotonic 64-bit
// counter the samples contract wants.
//
//   - A 32-bit counter (Counter32: ifInErrors, or ifInOctets where an agent
//     has no HC counters) that went down without an agent restart wrapped:
//     the published value goes on by raw + 2^32 - last, so rates stay right.
//   - After an agent restart (sysUpTime went back), a change of the
//     interface's ifCounterDiscontinuityTime, or a 64-bit counter that went
//     down, the value is a new baseline: that poll publishes nothing, and
//     the next one continues the published series by the increase since
//     the baseline. The published series never jumps, so no rate computed
//     from it can spike; the interval of the discontinuity is only
//     averaged over two polls.
//   - A counter read from a column of another width than the last poll's
//     (an interface's HC counter missing from one walk, so its 32-bit
//     ifTable column stands in, or the HC column showing up) starts a new
//     baseline the same way: the two columns count the same traffic from
//     different values, so their difference is no increase.
type counter struct {
	raw   uint64 // last raw value
	out   uint64 // last published value
	bits  int    // width of the column raw came from
	valid bool
}

// outcome of counter.update.
type outcome uint8

const (
	publishValue outcome = iota // publish the returned value
	wrapped                     // publish it; a 32-bit wrap was unwrapped
	rebaselined                 // publish nothing: a discontinuity started a new baseline
	switched                    // publish nothing: the value came from a column of another width, a new baseline
)

// update takes a new raw value of a counter of bits (32 or 64) width;
// discontinuity says the agent restarted or the counter's discontinuity
// time changed since the last poll.
func (c *counter) update(raw uint64, bits int, discontinuity bool) (uint64, outcome) {
	switch {
	case !c.valid:
		c.raw, c.out, c.bits, c.valid = raw, raw, bits, true
		return c.out, publishValue
	case discontinuity:
		c.raw, c.bits = raw, bits
		return c.out, rebaselined
	case bits != c.bits:
		c.raw, c.bits = raw, bits
		return c.out, switched
	case raw >= c.raw:
		c.out += raw - c.raw
		c.raw = raw
		return c.out, publishValue
	case bits == 32:
		c.out += raw + 1<<32 - c.raw
		c.raw = raw
		return c.out, wrapped
	}
	// A 64-bit counter does not wrap in practice: it was reset.
	c.raw = raw
	return c.out, rebaselined
}
