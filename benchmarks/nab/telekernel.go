package nab

import (
	"math"

	"github.com/telekernel/telekernel/backtest/nab"
	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/knncad"
	"github.com/telekernel/telekernel/detectors/rangebreak"
)

// DetectorName is the name telekernel's results are written under.
const DetectorName = "telekernel"

// Output selects what the NAB anomaly_score column holds.
type Output string

// Outputs.
const (
	// OutputOnset writes, on the point where an alert starts, its score,
	// and 0 elsewhere: one incident, one detection, as an operator would
	// receive it. An alert starts where the ensemble fires or where the
	// k-NN conformal detector (KNNConfig) sees a shape stranger than every
	// recent one (see KNNFire, KNNCooldown), or where the series breaks the
	// range it has ever visited (BreakConfig, BreakValue), or where a
	// sustained deviation from the weekly profile sets a record
	// (WeeklyConfig), unless an onset
	// at least as strong came within Suppress points before, or an onset
	// on the same level not much weaker within EchoMemory points before.
	// The default.
	OutputOnset Output = "onset"
	// OutputScore writes the ensemble score of every point.
	OutputScore Output = "score"
)

// The members and rules of the onset output: one fixed configuration
// for every file, tuned on the NAB subset (in-sample).
var (
	// KNNConfig: shapes of 20 points, neighbours among the last 400,
	// ranked among the last 400 nonconformities.
	KNNConfig = knncad.Config{Dim: 20, Train: 400, Calib: 400, K: 3}
	// KNNFire is the least score e/(1+e) of an onset, where e is the
	// ratio of a point's nonconformity to the largest recent one.
	KNNFire = 0.52
	// KNNCooldown is the least number of points between two k-NN onsets.
	KNNCooldown = 100
	// Suppress drops an onset (from any source) that comes within
	// Suppress points of an earlier onset at least as strong. The
	// comparison makes it act as a cooldown applied after NAB's threshold:
	// a weak onset below the threshold does not silence a strong one that
	// follows, while a strong one silences weaker echoes of the same
	// incident.
	Suppress = 100
	// BreakConfig is the range-break member of the onset output: the grid
	// is 16 levels over the first 200 points' range.
	BreakConfig = rangebreak.Config{Bins: 16, Warm: 200}
	// BreakValue is the value of a range-break onset; BreakGapWeight adds
	// BreakGapWeight·log10(gap/100) for a break gap points after the
	// previous one (a break after a long calm is the stronger).
	BreakValue     = 0.54
	BreakGapWeight = 0.02
	// EchoMemory and EchoRatio: an onset (from any source) on the same
	// level of the range-break grid as an onset emitted within the last
	// EchoMemory points is dropped unless it is more than EchoRatio times
	// as strong: a recurring excursion to the same level (a job that
	// runs every day or two) is one kind of event, not a new incident
	// each time.
	EchoMemory = 2500
	EchoRatio  = 1.2
)

// echo is an emitted onset remembered for the echo rule (EchoMemory).
type echo struct {
	n     int
	level int64
	v     float64
}

// Ensemble returns a factory of NAB detectors running telekernel's
// ensemble (and, for OutputOnset, the k-NN conformal and range-break
// detectors) with one fixed configuration for every file.
func Ensemble(sh *ensemble.Shared, out Output) func() nab.Detector {
	if out == OutputScore {
		return func() nab.Detector {
			e := sh.New()
			return nab.DetectorFunc(func(ts int64, x float64) float64 { return e.Update(ts, x).Score })
		}
	}
	return onsets(sh, onsetParams{&BreakConfig, BreakValue, BreakGapWeight, EchoMemory, EchoRatio, Suppress, defaultWeekly()})
}

// onsetParams configures the onset output's range-break source (brk nil:
// none; value and gapWeight, see BreakValue), the echo rule (echoMemory 0:
// none; see EchoMemory), the suppression (see Suppress) and the weekly
// source (nil: none; see WeeklyConfig).
type onsetParams struct {
	brk              *rangebreak.Config
	value, gapWeight float64
	echoMemory       int
	echoRatio        float64
	suppress         int
	weekly           *weeklyParams // nil: none
}

// onsets is the onset output configured by p.
func onsets(sh *ensemble.Shared, p onsetParams) func() nab.Detector {
	brk, value, gapWeight, echoMemory, echoRatio, suppress := p.brk, p.value, p.gapWeight, p.echoMemory, p.echoRatio, p.suppress
	return func() nab.Detector {
		e := sh.New()
		kd, err := knncad.New(KNNConfig)
		if err != nil {
			panic(err) // KNNConfig is a valid constant configuration
		}
		var rb *rangebreak.Detector
		if brk != nil {
			if rb, err = rangebreak.New(*brk); err != nil {
				panic(err) // the callers pass valid constant configurations
			}
		}
		var wk *weeklySource
		if p.weekly != nil {
			wk = newWeeklySource(*p.weekly)
		}
		var echoes []echo // emitted onsets of the last echoMemory points, oldest first
		n, last, lastAny, lastV := 0, -KNNCooldown, -suppress-1, 0.0
		return nab.DetectorFunc(func(ts int64, x float64) float64 {
			n++
			r := e.Update(ts, x)
			k := kd.Update(x)
			v := 0.0
			if r.Transition == ensemble.Fired {
				v = r.Score
			}
			var b rangebreak.Score
			if rb != nil {
				if b = rb.Update(x); b.Break {
					v = max(v, value+gapWeight*math.Log10(float64(b.Gap)/100))
				}
			}
			if k.WarmedUp && k.Excess > 1 {
				if s := 1 - 1/(1+k.Excess); s > KNNFire && n-last >= KNNCooldown {
					v, last = max(v, s), n
				}
			}
			if wk != nil {
				v = max(v, wk.Update(ts, x))
			}
			if v > 0 {
				if n-lastAny < suppress && v <= lastV {
					return 0
				}
				if echoMemory > 0 && b.WarmedUp {
					i := 0
					for i < len(echoes) && n-echoes[i].n >= echoMemory {
						i++
					}
					echoes = echoes[:copy(echoes, echoes[i:])]
					for _, o := range echoes {
						if o.level == b.Level && v <= echoRatio*o.v {
							return 0
						}
					}
					echoes = append(echoes, echo{n, b.Level, v})
				}
				lastAny, lastV = n, v
			}
			return v
		})
	}
}
