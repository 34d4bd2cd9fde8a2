// Package drift is the envelope rule for slow drift of hardware sensor
// gauges: an optic's receive or transmit power that decays over hours
// (an ageing laser, a dirty connector, a bending fibre). The ensemble's
// baselines follow such a ramp, so its members never see a large
// deviation; this rule compares the series with the envelope it showed
// while healthy instead. It is pure (no I/O, no clock): O(1) per point and
// about 80 bytes of state per series.
package drift
