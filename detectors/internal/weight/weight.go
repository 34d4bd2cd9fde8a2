// Package weight gives the detectors' exponentially weighted averages the
// weight of their n-th value, max(alpha, 1/n) (the first values averaged
// with weight 1/n so the start does not bias the average), without the
// division once n is past 1/alpha, where the weight is alpha for good: a
// division is the slowest instruction of an update, and an ensemble's
// members took several per point.
package weight

import "math"

// Sat returns the count from which max(alpha, 1/float64(n)) is alpha,
// bit for bit (math.MaxUint64 when there is none worth knowing): a count
// past 1/alpha, whose exact inverse is below alpha, so its correctly
// rounded inverse is at most alpha (rounding is monotonic and alpha a
// float). It is the least integer above 1/alpha as rounded, plus one for
// that rounding.
func Sat(alpha float64) uint64 {
	if !(alpha > 0) {
		return math.MaxUint64
	}
	inv := 1 / alpha
	if !(inv < 1<<52) {
		return math.MaxUint64
	}
	return uint64(inv) + 2
}

// Of returns max(alpha, 1/float64(n)), dividing only while n is below
// sat, which is Sat(alpha).
func Of(alpha float64, n, sat uint64) float64 {
	if n >= sat {
		return alpha
	}
	return max(alpha, 1/float64(n))
}
