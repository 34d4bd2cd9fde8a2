package ensemble

import (
	"fmt"
	"math"

	"github.com/telekernel/telekernel/detectors/changepoint"
	"github.com/telekernel/telekernel/detectors/ewma"
	"github.com/telekernel/telekernel/detectors/hst"
	"github.com/telekernel/telekernel/detectors/likelihood"
	"github.com/telekernel/telekernel/detectors/robustz"
	"github.com/telekernel/telekernel/detectors/seasonal"
)

// Shared is what ensembles of one configuration share: the validated
// configuration and the forest structure. It is immutable and safe for
// concurrent use; build it once per configuration with NewShared.
type Shared struct {
	cfg    Config
	mask   Mask
	forest *hst.Forest
}

// NewShared validates cfg (after WithDefaults) and builds what its
// ensembles share.
func NewShared(cfg Config) (*Shared, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ensemble: %w", err)
	}
	mask, _ := cfg.mask()
	f, err := hst.NewForest(cfg.Forest)
	if err != nil {
		return nil, fmt.Errorf("ensemble: %w", err)
	}
	return &Shared{cfg: cfg, mask: mask, forest: f}, nil
}

// Config returns the configuration with defaults applied.
func (s *Shared) Config() Config { return s.cfg }

// Ensemble is the detector state of one series. It is not safe for
// concurrent use.
type Ensemble struct {
	sh *Shared

	rz  *robustz.Detector
	ew  *ewma.Detector
	sea *seasonal.Detector
	cus *changepoint.CUSUM
	hst *hst.Detector
	cal [numMembers]*likelihood.Record

	firing    bool
	above     int32
	below     int32
	peak      float64
	startedAt int64
	n         uint64 // points seen
	lastOnset uint64 // n at the last onset; 0 before the first
}

// New returns the ensemble of one series.
func (s *Shared) New() *Ensemble {
	c := &s.cfg
	e := &Ensemble{sh: s}
	e.rz = robustz.New(c.RobustZ)
	e.ew, _ = ewma.New(c.EWMA)
	e.sea, _ = seasonal.New(c.Seasonal)
	e.cus, _ = changepoint.NewCUSUM(c.CUSUM)
	if s.mask.Has(Forest) {
		e.hst = s.forest.NewDetector()
	}
	for m := Member(0); m < numMembers; m++ {
		if s.mask.Has(m) {
			e.cal[m], _ = likelihood.NewRecord(c.Calibration)
		}
	}
	return e
}

// New builds a one-off ensemble for cfg; for many series build a Shared
// once and call its New.
func New(cfg Config) (*Ensemble, error) {
	s, err := NewShared(cfg)
	if err != nil {
		return nil, err
	}
	return s.New(), nil
}

// Update scores the point (ts in Unix ns, x) with every member, calibrates
// and combines their scores, and advances the alert. NaN and infinite
// values are ignored: they return the zero Result and change nothing.
func (e *Ensemble) Update(ts int64, x float64) Result {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Result{}
	}
	c := &e.sh.cfg
	mask := e.sh.mask
	e.n++
	var raw [numMembers]float64
	var ready Mask

	// Baselines: the robust median, the seasonal profile where it explains
	// the series.
	rs := e.rz.Score(x)
	e.rz.Add(x)
	ws := e.ew.Update(x)
	strength := e.sea.Strength(ts)
	ss := e.sea.Update(ts, x)
	cs := e.cus.Update(x)
	if rs.WarmedUp {
		raw[RobustZ], ready = math.Abs(rs.Z), ready|1<<RobustZ
	}
	if ws.WarmedUp {
		raw[EWMA], ready = math.Abs(ws.Z), ready|1<<EWMA
	}
	seasonalOK := ss.WarmedUp && strength >= c.SeasonalStrength
	if seasonalOK {
		raw[Seasonal], ready = math.Abs(ss.Z), ready|1<<Seasonal
	}
	if cs.WarmedUp {
		raw[CUSUM], ready = cs.Stat, ready|1<<CUSUM
	}
	if e.hst != nil {
		hs := e.hst.Update(x)
		if hs.WarmedUp {
			raw[Forest], ready = hs.Raw, ready|1<<Forest
		}
	}

	var r Result
	switch {
	case seasonalOK && mask.Has(Seasonal):
		r.Expected, r.Lower, r.Upper = ss.Expected, ss.Expected-c.BandZ*ss.Sigma, ss.Expected+c.BandZ*ss.Sigma
	case rs.WarmedUp:
		r.Expected, r.Lower, r.Upper = rs.Median, rs.Median-c.BandZ*rs.Sigma, rs.Median+c.BandZ*rs.Sigma
	default:
		r.Expected, r.Lower, r.Upper = ws.Mean, ws.Mean-c.BandZ*ws.Sigma, ws.Mean+c.BandZ*ws.Sigma
	}

	best := -1.0
	for m := Member(0); m < numMembers; m++ {
		if !mask.Has(m) {
			continue
		}
		if !ready.Has(m) {
			// Calibrators see every point, so a member that becomes ready
			// late is compared with its own history only.
			continue
		}
		ratio := e.cal[m].Update(raw[m])
		s := ratio / (1 + ratio)
		if s >= c.Fire {
			r.Fired |= 1 << m
		}
		if s > best {
			best, r.Top = s, m
		}
	}
	r.WarmedUp = best >= 0
	r.Score = math.Max(best, 0)
	e.alert(ts, &r)
	return r
}

// alert advances the hysteresis with r.Score.
func (e *Ensemble) alert(ts int64, r *Result) {
	c := &e.sh.cfg
	if !e.firing {
		if r.Score >= c.Fire {
			e.above++
		} else {
			e.above = 0
		}
		if int(e.above) >= c.Confirm && (e.lastOnset == 0 || e.n-e.lastOnset >= uint64(c.Cooldown)) {
			e.firing, e.above, e.below, e.peak, e.startedAt, e.lastOnset = true, 0, 0, r.Score, ts, e.n
			r.Transition = Fired
		}
	} else {
		e.peak = math.Max(e.peak, r.Score)
		if r.Score < c.Resolve {
			e.below++
		} else {
			e.below = 0
		}
		if int(e.below) >= c.Clear {
			e.firing, e.below = false, 0
			r.Transition = Resolved
		}
	}
	r.Firing = e.firing
	r.Peak = e.peak
}

// StartedAt returns the timestamp of the point that fired the current
// alert (0 when none fired yet).
func (e *Ensemble) StartedAt() int64 { return e.startedAt }

// StateBytes returns the bytes of state this series keeps.
func (e *Ensemble) StateBytes() int {
	n := 64 + e.rz.StateBytes() + e.ew.StateBytes() + e.sea.StateBytes() + e.cus.StateBytes()
	if e.hst != nil {
		n += e.hst.StateBytes()
	}
	for _, c := range e.cal {
		if c != nil {
			n += c.StateBytes()
		}
	}
	return n
}
