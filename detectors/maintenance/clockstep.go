package maintenance

import (
	"math"

	"github.com/telekernel/telekernel/detectors/rate"
	"github.com/telekernel/telekernel/schemas"
)

// Latest returns the latest time (Unix ns) of a reading that device's
// series and readings hold (0: none): a stage's reference for its
// samples far behind, which may be its clock stepping back (StepBack).
// The time a series holds counts only while it has an open bucket: one
// without (no reading yet, or none since a step back) is dated by its
// device thresholds (Observe), whose stamps are no reading's (the
// maintain stage takes one stamped far ahead at its device's present;
// one kept by an earlier build may be a year ahead). It reads device's
// keys only (devKeys).
func (t *Tracker) Latest(device string) int64 {
	d := t.keysOf(device)
	if d == nil {
		return 0
	}
	var n int64
	for _, k := range d.series {
		s := t.series[k]
		n = max(n, s.ctr.LastTS)
		if s.bStart != 0 {
			n = max(n, s.lastTS)
		}
	}
	for _, k := range d.covs {
		n = max(n, t.covs[k].ts)
	}
	for _, k := range d.psus {
		p := t.psus[k]
		n = max(n, p.outTS, p.vTS, p.iTS, p.pTS)
	}
	return n
}

// LastOf returns the latest sample time (Unix ns) the tracker holds of
// the series or reading a sample of device, metric and keys goes to (0:
// none, or a metric it keeps nothing of by itself, such as a device
// threshold): a stage's reference for a sample far behind it. As in
// Latest, a series without an open bucket holds no reading's time.
func (t *Tracker) LastOf(device, metric, keys string) int64 {
	k := schemas.SeriesKey{Device: device, Metric: metric, Keys: keys}
	var n int64
	if s := t.series[k]; s != nil {
		n = s.ctr.LastTS
		if s.bStart != 0 {
			n = max(n, s.lastTS)
		}
	}
	if c, ok := t.covs[k]; ok {
		n = max(n, c.ts)
	}
	if t.needPSU {
		if p := t.psus[schemas.SeriesKey{Device: device, Keys: keys}]; p != nil {
			switch metric {
			case schemas.MetricPSUOutPower:
				n = max(n, p.outTS)
			case schemas.MetricPSUInVoltage:
				n = max(n, p.vTS)
			case schemas.MetricPSUInCurrent:
				n = max(n, p.iTS)
			case schemas.MetricPSUInPower:
				n = max(n, p.pTS)
			}
		}
	}
	return n
}

// Dates reports whether a gauge sample of metric with value v dates a
// key the tracker keeps its time of (a series' reading, a covariate's or
// a PSU's), so that it counts in Latest and LastOf and a later sample far
// behind it may count toward its device's clock stepping back. A device
// threshold dates none (a series without readings is dated by it, but
// Latest does not count that), nor does a value the tracker drops: NaN
// or ±Inf (Observe).
func (t *Tracker) Dates(metric string, v float64) bool {
	if t.isCov[metric] && finite(v) {
		return true
	}
	if i, ok := t.bySignal[metric]; ok {
		return !t.cfg.Signals[i].Counter && finite(v)
	}
	switch metric {
	case schemas.MetricPSUOutPower, schemas.MetricPSUInVoltage, schemas.MetricPSUInCurrent, schemas.MetricPSUInPower:
		return t.needPSU // kept whatever their value
	}
	return false
}

// StepBack takes device back to to, the time of a sample that showed its
// clock stepped back (NTP's first sync after it ran ahead, or a sample
// stamped far ahead followed by the right time: a stage confirms it, as
// stages/maintain does), so that its series take its samples from to on:
// else each would ignore them (older than its open bucket, its counter's
// last sample, its covariate's or PSU's reading) until the device's time
// passed what it holds (hours, or a year). A series that holds a sample
// after to loses what it holds from after it: its open bucket (its
// values cannot be told apart by time), the closed buckets that end
// after to (the trend is fitted on the buckets' times: the new ones
// would come before them), and its counter's last sample (with a bad
// read it held pending), whose next one starts its rate again; its
// latest sample time is to. The covariate and
// PSU readings keep their values, stamped no later than to, so the
// readings from to on replace them. What a series learned stays (its
// baseline, season profile, covariate effect, threshold) and so does its
// case: an open one goes on with the buckets from to on. A device not
// known is left alone. It reports whether it took anything back.
func (t *Tracker) StepBack(device string, to int64) bool {
	d := t.keysOf(device)
	if d == nil {
		return false
	}
	b := int64(t.cfg.Bucket)
	took := false
	for _, k := range d.series {
		s := t.series[k]
		if max(s.lastTS, s.ctr.LastTS) <= to {
			continue
		}
		// It held a sample after to: its latest is to now, so a counter
		// that gave no rate yet (its last sample goes) stays dated
		// (ExpireEach).
		s.lastTS = to
		if s.ctr.LastTS > to {
			s.ctr.LastTS, s.ctr.Last = 0, 0
			s.glitch = rate.Glitch{} // what it held was before the last sample
		}
		s.bStart, s.vals, s.cvals = 0, s.vals[:0], s.cvals[:0]
		n := len(s.bt)
		for n > 0 && int64(math.Round(s.bt[n-1]*nsPerHour))+b/2 > to {
			n--
		}
		s.bt, s.by, s.bc = s.bt[:n], s.by[:n], s.bc[:n]
		t.markDirty(s)
		took = true
	}
	for _, k := range d.covs {
		if c := t.covs[k]; c.ts > to {
			c.ts = to
			t.covs[k] = c
			t.devDirty[device], took = true, true
		}
	}
	for _, k := range d.psus {
		if p := t.psus[k]; max(p.outTS, p.vTS, p.iTS, p.pTS) > to {
			p.outTS, p.vTS, p.iTS, p.pTS = min(p.outTS, to), min(p.vTS, to), min(p.iTS, to), min(p.pTS, to)
			t.devDirty[device], took = true, true
		}
	}
	return took
}
