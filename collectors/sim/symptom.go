package sim

import (
	"math"
	"time"
)

// SymptomSigmas is how far, in standard deviations of a series' own noise,
// a fault must move the series for FirstSymptom to call it visible.
const SymptomSigmas = 3

// Standard deviations of the simulator's noise on the series a slow fault
// shows first on (tick.go, power.go), and the bounds FirstSymptom takes
// for the healthy values a deviation is relative to.
var (
	// In-errors per interval: 1–3 errors (uniform) on 5 % of intervals.
	noiseErrorsPerInterval = math.Sqrt(0.05*(1+4+9)/3 - 0.1*0.1)
	// Optic input power: uniform in ±0.05 dB.
	noiseOpticDB = 0.05 / math.Sqrt(3)
	// Fan speed: 40 rpm, and 80 rpm per °C of a temperature with 0.3 °C.
	noiseFanRPM = math.Hypot(40, 80*0.3)
	// The lowest healthy fan speed (4000 rpm + 80 per °C above 30, the
	// hottest sensor at 38 °C or more): the smallest base of a fan's wear.
	minFanRPM = 4000 + 80*8.0
	// PSU input current = output / efficiency / voltage: output 0.5 %
	// (power mode; 1 % otherwise) and voltage 1.5 V of 230, relative.
	noisePSURelPower = math.Hypot(0.005, 1.5/230)
	noisePSURel      = math.Hypot(0.01, 1.5/230)
	// The highest healthy PSU efficiency (0.94 at full load; the power
	// model's peaks near 0.92): the smallest relative rise of the current
	// for an efficiency loss.
	maxPSUEfficiency = 0.94
)

// FirstSymptom returns the time of the first sample at which fault f
// (one of c's, after WithDefaults) is visible above the noise of the series
// it shows on: the first tick where the fault's own deviation from the
// value the series would have without it reaches SymptomSigmas standard
// deviations of that series' noise, from the simulator's noise model. The
// deviation is computed from the fault's ground truth, not from any
// detector:
//
//   - rx_errors: the errors it adds per interval (rising linearly to
//     Factor per second) against the in-errors counter's sporadic noise
//     (0.47 errors per interval);
//   - optic_degradation: the receive power's fall (linear to Factor dB)
//     against its ±0.05 dB noise;
//   - a fan's or PSU's precursor (wear before the fault's start): the
//     fan's speed falling to half (against 47 rpm, on the slowest healthy
//     fan), or the PSU's input current rising as its efficiency falls by
//     Factor (against 0.8 % or 1.2 %, from the most efficient healthy PSU);
//   - every other kind is a step at its start (a state change, traffic ×5
//     or ×0.05 against 4 % noise, a fan stopping): the first tick at or
//     after it.
//
// Bounds of the healthy values are taken so that the symptom is never
// earlier than on the series where the fault shows most.
func (c Config) FirstSymptom(f Fault) time.Time {
	c = c.WithDefaults()
	start := c.Start.Add(f.After)
	dt := c.Interval.Seconds()
	// at returns the first tick at or after start+frac·span at which the
	// fault's share frac of its ramp is at least need (1: never before the
	// end).
	at := func(from time.Time, span time.Duration, need float64) time.Time {
		if need >= 1 || span <= 0 {
			return c.tickAtOrAfter(from.Add(span))
		}
		return c.tickAtOrAfter(from.Add(time.Duration(need * float64(span))))
	}
	switch {
	case f.Kind == FaultRxErrors:
		return at(start, f.Duration, SymptomSigmas*noiseErrorsPerInterval/(f.Factor*dt))
	case f.Kind == FaultOpticDegradation:
		return at(start, f.Duration, SymptomSigmas*noiseOpticDB/f.Factor)
	case f.Kind == FaultFanFailure && f.Precursor > 0:
		return at(start.Add(-f.Precursor), f.Precursor, SymptomSigmas*noiseFanRPM/(0.5*minFanRPM))
	case f.Kind == FaultPSUDegradation && f.Precursor > 0:
		sd := noisePSURel
		if c.Power {
			sd = noisePSURelPower
		}
		// eff0/(eff0 − Factor·w) − 1 ≥ k·sd  ⇔  Factor·w ≥ eff0·(1 − 1/(1 + k·sd)).
		need := maxPSUEfficiency * (1 - 1/(1+SymptomSigmas*sd)) / f.Factor
		return at(start.Add(-f.Precursor), f.Precursor, need)
	}
	return c.tickAtOrAfter(start)
}

// tickAtOrAfter returns the first tick at or after t.
func (c Config) tickAtOrAfter(t time.Time) time.Time {
	d := t.Sub(c.Start)
	if d <= 0 {
		return c.Start
	}
	n := (d + c.Interval - 1) / c.Interval
	return c.Start.Add(n * c.Interval)
}
