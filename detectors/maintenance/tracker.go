package maintenance

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/telekernel/telekernel/detectors/rate"
	"github.com/telekernel/telekernel/schemas"
)

type series struct {
	sig int // index in Config.Signals
	key schemas.SeriesKey

	bStart int64     // start of the open bucket, Unix ns; 0 before the first value
	vals   []float64 // values of the open bucket
	bt, by []float64 // closed buckets: mid time (hours since the epoch), median

	baseVals []float64
	basePh   []float64 // season phase of each baseVals entry
	profile  []float64 // the season's profile (value − baseline by phase), learned with the baseline
	// Covariate (Signal.Covariate): its values in the open bucket, its
	// bucket medians beside bt/by and baseVals, and the learned effect.
	cvals, bc, baseCov []float64
	beta, covBase      float64
	hasCov             bool
	baseline           float64
	hasBase            bool
	devThr             float64
	hasThr             bool
	// A device threshold other than devThr, taken once a later one
	// confirms it or a bucket of readings closes after it with no other
	// (Observe, closeBucket): one garbled sample (a lower threshold read
	// as the upper) would fail the series at the next bucket's close.
	// In the series' record (version 2) while pending, so a restored
	// tracker takes it where the one that wrote it would have.
	thrNext   float64
	thrNextTS int64
	hasNext   bool

	open       bool
	failedHold bool
	calm       int
	lastTS     int64
	ctr        rate.Counter // counter signals: the last value
	// glitch holds a counter signal's read behind the last (0, 2^64-1)
	// or a Counter32's bad read above it (2^32-1, 2^31 or more) until
	// the next sample tells a glitch from a reset (rate.Glitch). In the
	// series' record (version 3) while pending.
	glitch rate.Glitch
	last   schemas.MaintenanceEvent // the case's last event, while open
	dirty  bool
}

type covReading struct {
	v  float64
	ts int64
}

type psuReading struct {
	out, v, i, p         float64
	outTS, vTS, iTS, pTS int64
}

// Tracker follows the health signals of many series.
type Tracker struct {
	cfg      Config
	bySignal map[string]int // metric → signal
	byThr    map[string]int // device threshold metric → signal
	series   map[schemas.SeriesKey]*series
	psus     map[schemas.SeriesKey]*psuReading // key: device, "", keys
	isCov    map[string]bool                   // metrics that are some signal's covariate
	covs     map[schemas.SeriesKey]covReading  // their latest values
	out      []schemas.MaintenanceEvent
	dirty    []schemas.SeriesKey
	devDirty map[string]bool     // devices whose covariate or PSU readings changed
	byDev    map[string]*devKeys // each device's keys in series, covs and psus
	scratch  []float64
	needPSU  bool
	dropped  [DropReasons]int // since TakeDropped
}

// Drop is why Observe did not take a sample's value: an index of
// TakeDropped's counts.
type Drop int

const (
	// DropThreshold: a device threshold not finite, or out of
	// thresholdBounds.
	DropThreshold Drop = iota
	// DropNotFinite: a NaN or ±Inf reading of a signal or a covariate.
	DropNotFinite
	// DropReasons is the number of reasons.
	DropReasons
)

// String returns the reason's label value: threshold or not_finite.
func (r Drop) String() string {
	switch r {
	case DropThreshold:
		return "threshold"
	case DropNotFinite:
		return "not_finite"
	}
	return fmt.Sprintf("Drop(%d)", int(r))
}

// TakeDropped returns how many sample values Observe did not take since
// the last call, by reason.
func (t *Tracker) TakeDropped() [DropReasons]int {
	d := t.dropped
	t.dropped = [DropReasons]int{}
	return d
}

// New returns a tracker.
func New(cfg Config) (*Tracker, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("maintenance: %w", err)
	}
	t := &Tracker{cfg: cfg, bySignal: map[string]int{}, byThr: map[string]int{}, series: map[schemas.SeriesKey]*series{}, psus: map[schemas.SeriesKey]*psuReading{},
		isCov: map[string]bool{}, covs: map[schemas.SeriesKey]covReading{}, devDirty: map[string]bool{}, byDev: map[string]*devKeys{}}
	for i, s := range cfg.Signals {
		if s.Covariate != "" {
			t.isCov[s.Covariate] = true
		}
		t.bySignal[s.Metric] = i
		if s.DeviceThresholdMetric != "" {
			t.byThr[s.DeviceThresholdMetric] = i
		}
		if s.Metric == schemas.MetricPSUEfficiency {
			t.needPSU = true
		}
	}
	return t, nil
}

// Config returns the configuration with defaults applied.
func (t *Tracker) Config() Config { return t.cfg }

// Series returns the number of series tracked.
func (t *Tracker) Series() int { return len(t.series) }

// Open returns the number of open cases.
func (t *Tracker) Open() int {
	n := 0
	for _, s := range t.series {
		if s.open {
			n++
		}
	}
	return n
}

func (t *Tracker) get(sig int, device, metric, keys string) *series {
	k := schemas.SeriesKey{Device: device, Metric: metric, Keys: keys}
	s := t.series[k]
	if s == nil {
		k = schemas.SeriesKey{Device: strings.Clone(device), Metric: strings.Clone(metric), Keys: strings.Clone(keys)}
		s = &series{sig: sig, key: k}
		t.series[k] = s
		t.addKey(k, seriesList)
	}
	return s
}

func (t *Tracker) markDirty(s *series) {
	if !s.dirty {
		s.dirty = true
		t.dirty = append(t.dirty, s.key)
	}
}

// Observe feeds one gauge sample. Samples of one series must come in time
// order; older ones are ignored. A NaN or ±Inf reading is dropped (a
// device threshold's too, and one out of thresholdBounds), and counted
// (TakeDropped). Strings are not retained.
func (t *Tracker) Observe(ts int64, device, metric, keys string, v float64) {
	// A covariate's ±Inf would make its bucket median, and the series
	// corrected by it, infinite.
	if t.isCov[metric] && finite(v) {
		k := schemas.SeriesKey{Device: device, Metric: metric, Keys: keys}
		old, ok := t.covs[k]
		if !ok {
			k = schemas.SeriesKey{Device: strings.Clone(device), Metric: strings.Clone(metric), Keys: strings.Clone(keys)}
			t.addKey(k, covList)
		}
		if !ok || ts >= old.ts { // a late reading does not replace a newer one
			t.covs[k] = covReading{v: v, ts: ts}
			t.devDirty[k.Device] = true
		}
	}
	if i, ok := t.bySignal[metric]; ok {
		if !t.cfg.Signals[i].Counter {
			if !finite(v) {
				t.dropped[DropNotFinite]++
			}
			t.observeNew(i, device, metric, keys, ts, v)
		}
		return
	}
	if t.isCov[metric] && !finite(v) { // a covariate alone
		t.dropped[DropNotFinite]++
	}
	if i, ok := t.byThr[metric]; ok {
		// Keys are the component's plus ",severity=…"; the critical
		// (or only) severity wins.
		comp, sev := keys, ""
		if j := strings.Index(keys, ",severity="); j >= 0 {
			comp, sev = keys[:j], keys[j+len(",severity="):]
		}
		if !plausibleThreshold(metric, v) {
			t.dropped[DropThreshold]++
			return // no threshold: one would be in every event of the case
		}
		s := t.get(i, device, t.cfg.Signals[i].Metric, comp)
		if !s.hasThr || sev == "CRITICAL" {
			switch {
			case !s.hasThr || v == s.devThr || s.hasNext && v == s.thrNext:
				s.devThr, s.hasThr, s.hasNext = v, true, false
				t.markDirty(s)
			default: // a change: the next threshold or bucket confirms it
				s.thrNext, s.thrNextTS, s.hasNext = v, ts, true
				t.markDirty(s)
			}
		}
		if s.bStart == 0 && ts > s.lastTS {
			// No reading yet: the thresholds date the series, so Expire
			// forgets it when they stop too (its first reading dates it
			// then: observe).
			s.lastTS = ts
			t.markDirty(s)
		}
		return
	}
	if !t.needPSU {
		return
	}
	switch metric {
	case schemas.MetricPSUOutPower, schemas.MetricPSUInVoltage, schemas.MetricPSUInCurrent, schemas.MetricPSUInPower:
	default:
		return
	}
	k := schemas.SeriesKey{Device: device, Keys: keys}
	p := t.psus[k]
	if p == nil {
		k = schemas.SeriesKey{Device: strings.Clone(device), Keys: strings.Clone(keys)}
		p = &psuReading{}
		t.psus[k] = p
		t.addKey(k, psuList)
	}
	// A late reading does not replace a newer one. (outTS is zeroed once
	// the efficiency of its time is taken, so a late output-power is kept
	// but finds no input reading of its time.)
	set := func(val *float64, at *int64) {
		if ts >= *at {
			*val, *at = v, ts
			t.devDirty[k.Device] = true
		}
	}
	switch metric {
	case schemas.MetricPSUOutPower:
		set(&p.out, &p.outTS)
	case schemas.MetricPSUInVoltage:
		set(&p.v, &p.vTS)
	case schemas.MetricPSUInCurrent:
		set(&p.i, &p.iTS)
	case schemas.MetricPSUInPower:
		set(&p.p, &p.pTS)
	}
	if p.outTS != ts || p.out <= 0 {
		return
	}
	in := 0.0
	switch {
	case p.pTS == ts:
		in = p.p
	case p.vTS == ts && p.iTS == ts:
		in = p.v * p.i
	default:
		return
	}
	if in <= 0 {
		return
	}
	p.outTS = 0 // once per time
	t.observeNew(t.bySignal[schemas.MetricPSUEfficiency], device, schemas.MetricPSUEfficiency, keys, ts, p.out/in)
}

// finite reports whether v is a reading the tracker keeps: not NaN, not
// ±Inf.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// thresholdBounds bound the device thresholds a transceiver can have
// (schemas' units: above the first, up to the second). One beyond them,
// garbled or a placeholder, which a device that sends thresholds only
// when they change would put in force a bucket later, is dropped as NaN
// is. A transceiver's management interface (SFF-8472, SFF-8636, CMIS)
// encodes receive power in 0.1 µW steps of 16 bits, -40 to +8.2 dBm, and
// laser bias in 2 µA steps of 16 bits times at most 4, up to 524 mA; a
// coherent module's receive power in 0.01 dBm, yet no receiver's low
// alarm sits above +20 dBm (100 mW, past every receiver's damage level).
// A low alarm at or below -40 dBm is no light: an unprogrammed module's
// 0 mW, which devices report at the scale's floor, -40 dBm, or any value
// below every receiver's sensitivity (-35 dBm at best). Taken, it held a
// decaying optic's case back until its trend headed for no light: late,
// or, lower, never. The signal's configured threshold stands instead
// (TestMaintainNoLightThreshold of stages/maintain). An upper bias alarm
// at or below 0 mA (an unprogrammed module's) would fail every working
// laser. Other threshold metrics (configured) are taken when finite.
var thresholdBounds = map[string][2]float64{
	schemas.MetricThresholdInPowerLower: {-40, 20},
	schemas.MetricThresholdBiasUpper:    {0, 1000},
}

// plausibleThreshold reports whether v is a device threshold of metric
// the tracker takes: finite, and within thresholdBounds.
func plausibleThreshold(metric string, v float64) bool {
	b, ok := thresholdBounds[metric]
	return finite(v) && (!ok || b[0] < v && v <= b[1])
}

// observeNew feeds a reading of signal i to its series, made for it if
// need be. A reading observe drops makes none: a series without readings
// would hold no time by which ExpireEach could forget it.
func (t *Tracker) observeNew(i int, device, metric, keys string, ts int64, v float64) {
	if finite(v) {
		t.observe(t.get(i, device, metric, keys), ts, v)
	}
}

// ObserveCounter feeds one counter sample; counter signals track its rate
// per second (a read behind the last, or a Counter32's bad read, waits
// for the next sample: rate.Glitch). Other counters are ignored.
func (t *Tracker) ObserveCounter(ts int64, device, metric, keys string, v uint64) {
	i, ok := t.bySignal[metric]
	if !ok || !t.cfg.Signals[i].Counter {
		return
	}
	s := t.get(i, device, metric, keys)
	// Counter.Update took an agent's -1 read once (a Counter32's 2^32-1)
	// for a rate of up to 7*10^7 per second, and the sample after a read
	// of 0 for the whole count over one interval: in a bucket of a few
	// polls, its median past the threshold failed the series.
	pending, bad, resets := s.glitch.Pending(), s.ctr.LastTS, s.ctr.Resets
	r, res := s.glitch.Update(&s.ctr, ts, v)
	switch res {
	case rate.OK:
		if pending != 0 && s.ctr.Resets < resets {
			// A glitch at bad: the rate spans its interval too, which
			// counts in its bucket as it would have without the bad read.
			t.observe(s, bad, r)
		}
		t.observe(s, ts, r)
	case rate.First, rate.Reset:
		// No rate, but its counter's sample dates the series (ExpireEach)
		// and is the next rate's start: a new owner must hold it too.
		t.markDirty(s)
	}
}

func (t *Tracker) observe(s *series, ts int64, v float64) {
	if !finite(v) || ts < s.bStart {
		return
	}
	b := int64(t.cfg.Bucket)
	first := s.bStart == 0
	if first {
		s.bStart = ts - ts%b
	}
	if ts >= s.bStart+b {
		t.closeBucket(s)
		s.bStart = ts - ts%b
	}
	s.vals = append(s.vals, v)
	if cov := t.cfg.Signals[s.sig].Covariate; cov != "" {
		c, ok := t.covs[schemas.SeriesKey{Device: s.key.Device, Metric: cov, Keys: s.key.Keys}]
		if ok && c.ts >= ts-b && c.ts <= ts+b {
			s.cvals = append(s.cvals, c.v)
		}
	}
	if first {
		// Its first reading (or first since a step back) dates it: a date
		// its device thresholds gave it is no reading's (Observe), and
		// kept, a reading before it would seem one behind (LastOf).
		s.lastTS = ts
	} else {
		s.lastTS = max(s.lastTS, ts) // a late sample of the open bucket counts in it, but is not news
	}
	t.markDirty(s)
}

const nsPerHour = float64(time.Hour)

func (t *Tracker) closeBucket(s *series) {
	if len(s.vals) == 0 {
		return
	}
	if s.hasNext && s.thrNextTS < s.bStart {
		// The changed threshold stood through the bucket: the device's
		// (it may send thresholds only when they change).
		s.devThr, s.hasNext = s.thrNext, false
	}
	t.scratch = append(t.scratch[:0], s.vals...)
	slices.Sort(t.scratch)
	med := median(t.scratch)
	s.vals = s.vals[:0]
	covMed := math.NaN()
	if len(s.cvals) > 0 {
		t.scratch = append(t.scratch[:0], s.cvals...)
		slices.Sort(t.scratch)
		covMed = median(t.scratch)
		s.cvals = s.cvals[:0]
	}
	end := s.bStart + int64(t.cfg.Bucket)
	mid := (float64(s.bStart) + float64(t.cfg.Bucket)/2) / nsPerHour
	if len(s.bt) >= t.cfg.Window {
		copy(s.bt, s.bt[1:])
		copy(s.by, s.by[1:])
		copy(s.bc, s.bc[1:])
		s.bt, s.by, s.bc = s.bt[:len(s.bt)-1], s.by[:len(s.by)-1], s.bc[:len(s.bc)-1]
	}
	// The value without the covariate's effect, then without the
	// season's profile.
	corr := s.correct(med, covMed)
	adj := corr
	if s.profile != nil {
		adj -= s.profile[t.phase(mid)]
	}
	s.bt, s.by, s.bc = append(s.bt, mid), append(s.by, adj), append(s.bc, covMed)
	if !s.hasBase {
		s.baseVals = append(s.baseVals, med)
		s.basePh = append(s.basePh, float64(t.phase(mid)))
		s.baseCov = append(s.baseCov, covMed)
		if len(s.baseVals) >= t.cfg.Baseline {
			t.learnBaseline(s)
		}
	}
	t.evaluate(s, end, s.correct(med, covMed))
}

// correct removes the covariate's learned effect from v.
func (s *series) correct(v, cov float64) float64 {
	if !s.hasCov || math.IsNaN(cov) {
		return v
	}
	return v - s.beta*(cov-s.covBase)
}

// learnCovariate learns the covariate's effect from the baseline buckets:
// the median of the pairwise slopes of value on covariate, over pairs at
// least a quarter of the covariate's range apart. The effect is used only
// when the baseline determines it: value and covariate go together with
// the confidence a case needs (Config.MinConfidence, one-sided Kendall; a
// tie is no evidence), and Sen's 90 % rank interval of the slope excludes
// zero and is no wider than the slope itself. Without that (too little
// spread in the covariate for its noise and resolution: the showcase's
// one-hour baseline once saw a transceiver's bucket medians span 0.05 °C,
// learned 0.40 mA/°C where the true slope is about 0.11, and read the next
// hours' cooling as an ageing laser) nothing is corrected.
func (t *Tracker) learnCovariate(s *series) {
	var xs, ys []float64
	for i, c := range s.baseCov {
		if !math.IsNaN(c) {
			xs, ys = append(xs, c), append(ys, s.baseVals[i])
		}
	}
	if len(xs) < 4 {
		return
	}
	lo, hi := slices.Min(xs), slices.Max(xs)
	if hi-lo <= 0 {
		return
	}
	t.scratch = t.scratch[:0]
	for i := range xs {
		for j := i + 1; j < len(xs); j++ {
			if dx := xs[j] - xs[i]; math.Abs(dx) >= (hi-lo)/4 {
				t.scratch = append(t.scratch, (ys[j]-ys[i])/dx)
			}
		}
	}
	if len(t.scratch) == 0 {
		return
	}
	slices.Sort(t.scratch)
	beta := median(t.scratch)
	if z := kendallZ(xs, ys); z*beta <= 0 || math.Abs(z) < math.Sqrt2*math.Erfinv(2*t.cfg.MinConfidence-1) {
		return
	}
	if lo, hi := senInterval(t.scratch, len(xs)); lo*beta <= 0 || hi*beta <= 0 || hi-lo > math.Abs(beta) {
		return
	}
	s.beta = beta
	slices.Sort(xs)
	s.covBase, s.hasCov = median(xs), true
}

// period returns the buckets of a season, or 0 when the baseline is too
// short to learn a season's profile.
func (t *Tracker) period() int {
	p := int(t.cfg.Season / t.cfg.Bucket)
	if p < 2 || t.cfg.Baseline < p {
		return 0
	}
	return p
}

// phase returns the season phase of a bucket from its middle (hours).
func (t *Tracker) phase(mid float64) int {
	p := t.period()
	if p == 0 {
		return 0
	}
	start := int64(mid*nsPerHour) - int64(t.cfg.Bucket)/2
	return int((start / int64(t.cfg.Bucket)) % int64(p))
}

// learnBaseline sets the healthy baseline (the median of the baseline
// buckets) and the season's profile (the median departure from it by
// phase), and removes the profile from the buckets held: trends are then
// fitted on values without the daily swing.
func (t *Tracker) learnBaseline(s *series) {
	if t.cfg.Signals[s.sig].Covariate != "" {
		t.learnCovariate(s)
		for i := range s.baseVals {
			s.baseVals[i] = s.correct(s.baseVals[i], s.baseCov[i])
		}
		for i := range s.by {
			s.by[i] = s.correct(s.by[i], s.bc[i])
		}
	}
	t.scratch = append(t.scratch[:0], s.baseVals...)
	slices.Sort(t.scratch)
	s.baseline, s.hasBase = median(t.scratch), true
	if p := t.period(); p > 0 {
		s.profile = make([]float64, p)
		for ph := range s.profile {
			t.scratch = t.scratch[:0]
			for i, v := range s.baseVals {
				if int(s.basePh[i]) == ph {
					t.scratch = append(t.scratch, v-s.baseline)
				}
			}
			if len(t.scratch) > 0 {
				slices.Sort(t.scratch)
				s.profile[ph] = median(t.scratch)
			}
		}
		for i := range s.by {
			s.by[i] -= s.profile[t.phase(s.bt[i])]
		}
	}
	s.baseVals, s.basePh, s.baseCov = nil, nil, nil
}

// threshold returns the failure threshold of a series and its source.
func (t *Tracker) threshold(s *series) (float64, string, bool) {
	sig := &t.cfg.Signals[s.sig]
	switch {
	case s.hasThr:
		return s.devThr, schemas.ThresholdDevice, true
	case sig.Threshold != nil:
		return *sig.Threshold, schemas.ThresholdConfigured, true
	case !s.hasBase:
		return 0, "", false
	case sig.Relative != 0:
		return s.baseline * (1 + sig.Relative), schemas.ThresholdConfigured, true
	}
	return s.baseline + sig.Delta, schemas.ThresholdConfigured, true
}

func (t *Tracker) evaluate(s *series, now int64, med float64) {
	sig := &t.cfg.Signals[s.sig]
	thr, src, ok := t.threshold(s)
	if !ok {
		return
	}
	dir := 1.0
	if sig.Direction == schemas.DirectionFalling {
		dir = -1
	}
	crossed := dir*(med-thr) >= 0
	if s.failedHold {
		// Failed: wait until the component is back (replaced), then learn
		// it afresh.
		healthy := !crossed
		if healthy && s.hasBase {
			healthy = math.Abs(med-s.baseline) < 0.5*math.Abs(thr-s.baseline)
		}
		if healthy {
			s.failedHold, s.bt, s.by, s.bc = false, s.bt[:0], s.by[:0], s.bc[:0]
			if !s.hasThr && sig.Threshold == nil {
				s.hasBase, s.baseVals, s.basePh, s.profile = false, nil, nil, nil
				s.baseCov, s.hasCov, s.beta = nil, false, 0
			}
		}
		return
	}
	if crossed {
		if s.open {
			e := s.last
			e.Value = med
			t.emit(s, &e, schemas.MaintenanceClosed, now, schemas.CloseFailed)
			s.open = false
		}
		s.failedHold = true
		return
	}
	// A case needs the healthy baseline (learned also for absolute
	// thresholds), so the first hours of a series cannot open one.
	if len(s.bt) < t.cfg.MinBuckets || !s.hasBase {
		return
	}
	tr := t.fit(s, dir)
	tNow := float64(now) / nsPerHour
	level := tr.At(tNow)
	conf := tr.Confidence(dir)
	toward := dir*tr.Slope > 0
	dist := thr - level
	ttf := math.Inf(1)
	if toward {
		ttf = math.Max(dist/tr.Slope, 0)
	}
	// Progress is judged on the median of the recent buckets: a quarter
	// of a season once the season's profile is removed from them, else a
	// whole season, so a daily swing does not look like a degradation.
	progress := 1.0
	if thr != s.baseline {
		recent := max(1, int(t.cfg.Season/t.cfg.Bucket))
		if s.profile != nil {
			recent = max(1, recent/4)
		}
		recent = min(len(s.by), recent)
		t.scratch = append(t.scratch[:0], s.by[len(s.by)-recent:]...)
		slices.Sort(t.scratch)
		progress = (median(t.scratch) - s.baseline) / (thr - s.baseline)
	}
	horizon := t.horizon(s)
	if !s.open {
		// A level shift that has already happened (a fan stopped and the
		// chassis runs hot) is not a trend to extrapolate: the detect stage
		// reports steps, this tracker predicts degradations.
		if toward && conf >= t.cfg.MinConfidence && ttf <= horizon && progress >= t.cfg.MinProgress &&
			!StepLike(s.bt[len(s.bt)-tr.N:], s.by[len(s.by)-tr.N:], tr) {
			e := t.event(s, tr, now, level, thr, src, dir, conf, ttf)
			s.open, s.calm = true, 0
			e.OpenedAt = time.Unix(0, now).UTC()
			t.emit(s, &e, schemas.MaintenanceOpen, now, "")
		}
		return
	}
	closeConf := 1 - 10*(1-t.cfg.MinConfidence)
	if !toward || conf < closeConf || ttf > 2*horizon {
		s.calm++
		if s.calm >= t.cfg.CloseAfter {
			e := s.last
			e.Value, e.SlopePerHour, e.Confidence = level, tr.Slope, conf
			t.emit(s, &e, schemas.MaintenanceClosed, now, schemas.CloseRecovered)
			s.open = false
		}
		return
	}
	s.calm = 0
	e := t.event(s, tr, now, level, thr, src, dir, conf, ttf)
	e.OpenedAt = s.last.OpenedAt
	prevLead := s.last.PredictedFailure.Sub(time.Unix(0, now)).Hours()
	moved := math.Abs(e.PredictedFailure.Sub(s.last.PredictedFailure).Hours())
	if moved > t.cfg.UpdateChange*math.Max(prevLead, 1) || e.Severity != s.last.Severity {
		t.emit(s, &e, schemas.MaintenanceUpdate, now, "")
	}
}

// horizon returns how far ahead (hours) a case of s may predict a failure:
// the configured horizon, or a quarter season when a season is configured
// but its profile could not be learned (a baseline shorter than a season).
// A trend fitted on less than a season may then be the falling half of the
// daily swing, and the configured horizon (days) would extrapolate it to a
// failure. Extrapolated from its steepest part, a swing smaller than the
// distance to the threshold heads for it hours ahead, not minutes: in
// TestUnseasonedHorizon a daily swing of half that distance (peak to
// trough) opens no case at any phase, while a wear that crosses within
// hours still does.
func (t *Tracker) horizon(s *series) float64 {
	h := t.cfg.Horizon.Hours()
	if s.profile == nil && t.cfg.Season >= 2*t.cfg.Bucket {
		h = math.Min(h, t.cfg.Season.Hours()/4)
	}
	return h
}

// fit fits the trend over the window, or over its recent half (and
// quarter…) while that half heads for the threshold faster than the longer
// fit's interval allows: a degradation that began inside the window is
// extrapolated at its own rate, not diluted by the healthy time before it.
func (t *Tracker) fit(s *series, dir float64) Trend {
	n := len(s.bt)
	var tr Trend
	tr, t.scratch = Fit(s.bt, s.by, t.scratch)
	lo, hi := tr.Slope, tr.Slope
	chosen := true
	for w := n / 2; w >= t.cfg.MinBuckets && w >= t.cfg.MinFit; w /= 2 {
		var half Trend
		half, t.scratch = Fit(s.bt[n-w:], s.by[n-w:], t.scratch)
		lo, hi = math.Min(lo, half.Slope), math.Max(hi, half.Slope)
		steeper := dir*half.Slope > 0 && ((dir > 0 && half.Slope > tr.Upper) || (dir < 0 && half.Slope < tr.Lower))
		if chosen && steeper {
			tr = half
		} else {
			chosen = false
		}
	}
	// The slope interval also spans the slopes of the other windows: the
	// rank interval assumes a straight line, and the choice of window is
	// part of the uncertainty.
	tr.Lower, tr.Upper = math.Min(tr.Lower, lo), math.Max(tr.Upper, hi)
	return tr
}

// event builds the prediction part of an event.
func (t *Tracker) event(s *series, tr Trend, now int64, level, thr float64, src string, dir, conf, ttf float64) schemas.MaintenanceEvent {
	sig := &t.cfg.Signals[s.sig]
	at := time.Unix(0, now).UTC()
	hours := func(h float64) time.Time { return at.Add(time.Duration(math.Min(h, 1e5) * float64(time.Hour))) }
	dist := thr - level
	steep, shallow := tr.Lower, tr.Upper
	if dir > 0 {
		steep, shallow = tr.Upper, tr.Lower
	}
	earliest := ttf
	if dir*steep > 0 {
		earliest = math.Min(math.Max(dist/steep, 0), ttf)
	}
	iv := schemas.Interval{Earliest: hours(earliest)}
	if dir*shallow > 0 {
		l := hours(math.Max(dist/shallow, ttf))
		iv.Latest = &l
	}
	sev := schemas.SeverityInfo
	switch {
	case ttf <= 24:
		sev = schemas.SeverityCritical
	case ttf <= 7*24:
		sev = schemas.SeverityWarning
	}
	return schemas.MaintenanceEvent{
		Version: schemas.MaintenanceVersion, Key: schemas.MaintenanceKey(s.key.Device, s.key.Keys, sig.Name),
		Device: s.key.Device, Component: s.key.Keys, Metric: s.key.Metric, Signal: sig.Name, Unit: sig.Unit,
		Value: level, SlopePerHour: tr.Slope, Threshold: thr, ThresholdSource: src, Direction: sig.Direction,
		PredictedFailure: hours(ttf), Interval: iv, Confidence: conf, LeadTimeSeconds: math.Min(ttf, 1e5) * 3600, Severity: sev,
		Summary: fmt.Sprintf("%s of %s %s moves %+.3g %s/h; it reaches %.4g %s in about %.0f h", sig.Name, s.key.Device,
			strings.TrimPrefix(s.key.Keys, "name="), tr.Slope, sig.Unit, thr, sig.Unit, ttf),
	}
}

func (t *Tracker) emit(s *series, e *schemas.MaintenanceEvent, state string, now int64, reason string) {
	at := time.Unix(0, now).UTC()
	e.State, e.EventTime, e.DetectedAt, e.CloseReason, e.ClosedAt = state, at, at, reason, nil
	if state == schemas.MaintenanceClosed {
		e.ClosedAt = &at
		if e.PredictedFailure.Before(at) {
			e.LeadTimeSeconds = 0
		} else {
			e.LeadTimeSeconds = e.PredictedFailure.Sub(at).Seconds()
		}
	}
	e.ID = fmt.Sprintf("%s-%d-%s", e.Key, now, state)
	s.last = *e
	t.out = append(t.out, *e)
	t.markDirty(s)
}

// Expire closes, as stale, the open cases of series silent since before
// now − Config.Stale (device time, Unix ns), and forgets series, covariate
// readings and PSU readings silent for ten times as long. It goes through
// the series in key order, so the events and the changelog keys it makes
// come in the same order on every owner.
func (t *Tracker) Expire(now int64) { t.ExpireEach(func(string, int64) int64 { return now }) }

// ExpireEach is Expire with now its own for each series, covariate and
// PSU: nowOf(device, last) is the time, in the device's own time, that a
// key of device whose latest sample was at last is judged at (a stage
// whose devices' clocks differ judges each on its own); it also times the
// key's stale close. A series' latest sample is its latest reading's, or
// device threshold's, or counter sample's: a counter that never gave a
// rate (one sample, or only resets) is dated by its samples. One with
// none (restored from an earlier build, whose StepBack took a counter's
// only sample) holds nothing learned, and goes at the first sweep.
func (t *Tracker) ExpireEach(nowOf func(device string, last int64) int64) {
	stale := int64(t.cfg.Stale)
	for _, k := range t.Keys() {
		s := t.series[k]
		last := max(s.lastTS, s.ctr.LastTS)
		now := nowOf(k.Device, last)
		if s.open && last < now-stale {
			e := s.last
			t.emit(s, &e, schemas.MaintenanceClosed, now, schemas.CloseStale)
			s.open = false
		}
		if last < now-10*stale && !s.open {
			delete(t.series, k)
			t.dropKey(k, seriesList)
			if !s.dirty {
				t.dirty = append(t.dirty, k) // TakeDirty reports it: a tombstone
			}
		}
	}
	// A device's readings go when it has been silent as long: a device
	// left with none gets a tombstone (AppendDeviceState reports false).
	for k, c := range t.covs {
		if c.ts < nowOf(k.Device, c.ts)-10*stale {
			delete(t.covs, k)
			t.dropKey(k, covList)
			t.devDirty[k.Device] = true
		}
	}
	for k, p := range t.psus {
		if last := max(p.outTS, p.vTS, p.iTS, p.pTS); last < nowOf(k.Device, last)-10*stale {
			delete(t.psus, k)
			t.dropKey(k, psuList)
			t.devDirty[k.Device] = true
		}
	}
}

// Take returns the events produced since the last call; the caller owns
// them. DetectedAt is the event time; a stage sets the wall clock.
func (t *Tracker) Take() []schemas.MaintenanceEvent {
	o := t.out
	t.out = nil
	return o
}

// TrendOf returns a series' closed buckets (Unix ns of their middles and
// medians), its current trend and threshold (NaN while it is not known),
// for reports. ok is false for an unknown series.
func (t *Tracker) TrendOf(k schemas.SeriesKey) (ts []int64, ys []float64, tr Trend, thr float64, ok bool) {
	s := t.series[k]
	if s == nil {
		return nil, nil, Trend{}, 0, false
	}
	for _, h := range s.bt {
		ts = append(ts, int64(h*nsPerHour))
	}
	ys = slices.Clone(s.by)
	dir := 1.0
	if t.cfg.Signals[s.sig].Direction == schemas.DirectionFalling {
		dir = -1
	}
	tr = t.fit(s, dir)
	thr, _, ok = t.threshold(s)
	if !ok {
		thr = math.NaN()
	}
	return ts, ys, tr, thr, true
}

// Keys returns the series tracked.
func (t *Tracker) Keys() []schemas.SeriesKey {
	out := make([]schemas.SeriesKey, 0, len(t.series))
	for k := range t.series {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b schemas.SeriesKey) int { return strings.Compare(a.String(), b.String()) })
	return out
}
