package maintenance

import (
	"math"
	"slices"
)

// Trend is a robust straight-line fit y = Intercept + Slope·t.
type Trend struct {
	N         int
	Slope     float64 // Theil–Sen: the median of the pairwise slopes
	Lower     float64 // Sen's rank interval of the slope (90 %)
	Upper     float64
	Intercept float64 // median of y − Slope·t
	// Z is the Mann–Kendall statistic, standardised (with continuity
	// correction, ignoring ties): large positive for a rising trend.
	Z float64
}

// At returns the fitted value at t.
func (tr Trend) At(t float64) float64 { return tr.Intercept + tr.Slope*t }

// Confidence returns the one-sided Mann–Kendall confidence that the series
// trends in direction dir (+1 rising, −1 falling): Φ(dir·Z).
func (tr Trend) Confidence(dir float64) float64 {
	return 0.5 * math.Erfc(-dir*tr.Z/math.Sqrt2)
}

// z of the two-sided 90 % interval.
const z90 = 1.6448536269514722

// Fit fits a trend to the points (t[i], y[i]); t must be strictly
// increasing. scratch is reused when large enough and returned. With fewer
// than 3 points the trend is flat at the median.
func Fit(t, y []float64, scratch []float64) (Trend, []float64) {
	n := len(t)
	tr := Trend{N: n}
	if n < 3 {
		scratch = append(scratch[:0], y...)
		slices.Sort(scratch)
		if n > 0 {
			tr.Intercept = median(scratch)
		}
		return tr, scratch
	}
	slopes := scratch[:0]
	s := 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			d := y[j] - y[i]
			slopes = append(slopes, d/(t[j]-t[i]))
			switch {
			case d > 0:
				s++
			case d < 0:
				s--
			}
		}
	}
	slices.Sort(slopes)
	tr.Slope = median(slopes)
	tr.Z = standardS(s, n)
	tr.Lower, tr.Upper = senInterval(slopes, n)
	res := slopes[:0]
	for i := range t {
		res = append(res, y[i]-tr.Slope*t[i])
	}
	slices.Sort(res)
	tr.Intercept = median(res)
	return tr, slopes
}

// senInterval returns Sen's 90 % rank interval of a slope from its sorted
// pairwise slopes (non-empty) between n points. When only some of the
// n(n−1)/2 pairs are used, the rank half-width shrinks in proportion.
func senInterval(slopes []float64, n int) (lo, hi float64) {
	m, nf := float64(len(slopes)), float64(n)
	c := z90 * math.Sqrt(nf*(nf-1)*(2*nf+5)/18) * m / (nf * (nf - 1) / 2)
	i := int(math.Floor((m - c) / 2))
	j := int(math.Ceil((m + c) / 2))
	return slopes[max(i, 0)], slopes[min(j, len(slopes)-1)]
}

// kendallZ returns the standardised Kendall statistic of the association
// between x and y (positive when they rise together), with continuity
// correction. Its variance ignores ties, as Fit's does: a pair tied in
// either adds nothing to the statistic and the full share to its variance,
// so values that barely vary are no evidence.
func kendallZ(x, y []float64) float64 {
	n := len(x)
	s := 0
	for i := range n {
		for j := i + 1; j < n; j++ {
			switch p := (x[j] - x[i]) * (y[j] - y[i]); {
			case p > 0:
				s++
			case p < 0:
				s--
			}
		}
	}
	return standardS(s, n)
}

// standardS standardises the Kendall statistic s of n points, with
// continuity correction and the variance without ties.
func standardS(s, n int) float64 {
	nf := float64(n)
	sd := math.Sqrt(nf * (nf - 1) * (2*nf + 5) / 18)
	switch {
	case s > 0:
		return (float64(s) - 1) / sd
	case s < 0:
		return (float64(s) + 1) / sd
	}
	return 0
}

// median of sorted s (non-empty).
func median(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// stepRatio is the largest share of a line's squared residuals that a
// two-level fit may leave for the points to count as a step: a level shift
// that has already happened, not a degradation still under way. For a
// straight ramp the two-level fit leaves more than the line (the ratio is
// 1 + rise²/(48σ²) in expectation, a little less after choosing the best
// split of pure noise), so one half is far from any ramp.
const stepRatio = 0.5

// minStepSide is the fewest points on each side of a step's split.
const minStepSide = 3

// StepLike reports whether the points (t[i], y[i]) are explained much
// better by one level shift (two flat levels) than by the trend tr fitted to
// them: a chassis that ran hot when its fan stopped, then stayed hot, is a
// step, and extrapolating it as a trend predicts a failure that never comes.
func StepLike(t, y []float64, tr Trend) bool {
	n := len(y)
	if n < 2*minStepSide {
		return false
	}
	var line float64
	for i := range y {
		r := y[i] - tr.At(t[i])
		line += r * r
	}
	if line == 0 {
		return false
	}
	// Prefix sums give each split's two-level SSE in O(1).
	var sum, sq float64
	for _, v := range y {
		sum += v
		sq += v * v
	}
	best := math.Inf(1)
	var ls, lq float64
	for k := 1; k < n; k++ {
		ls += y[k-1]
		lq += y[k-1] * y[k-1]
		if k < minStepSide || n-k < minStepSide {
			continue
		}
		rs, rq := sum-ls, sq-lq
		sse := lq - ls*ls/float64(k) + rq - rs*rs/float64(n-k)
		best = math.Min(best, sse)
	}
	return best < stepRatio*line
}
