package nab

import (
	"github.com/telekernel/telekernel/detectors/ensemble"
)

// DetectorName is the name telekernel's results are written under.
const DetectorName = "telekernel"

// Output selects what the NAB anomaly_score column holds.
type Output string

// Outputs.
const (
	// OutputOnset writes the ensemble score on the point where an alert
	// fires and 0 elsewhere: one incident, one detection, as an operator
	// would receive it. The default.
	OutputOnset Output = "onset"
	// OutputScore writes the ensemble score of every point.
	OutputScore Output = "score"
)

// Ensemble returns a factory of NAB detectors running telekernel's
// ensemble with one fixed configuration for every file.
func Ensemble(sh *ensemble.Shared, out Output) func() Detector {
	return func() Detector {
		e := sh.New()
		return DetectorFunc(func(ts int64, x float64) float64 {
			r := e.Update(ts, x)
			if out == OutputScore {
				return r.Score
			}
			if r.Transition == ensemble.Fired {
				return r.Score
			}
			return 0
		})
	}
}
