package maintenance

import (
	"fmt"
	"math"
	"time"

	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/schemas"
)

// Signal is one health signal: a gauge metric and how it fails.
type Signal struct {
	Name      string `yaml:"name"`      // e.g. optic_rx_power
	Metric    string `yaml:"metric"`    // gauge path
	Unit      string `yaml:"unit"`      // e.g. dBm
	Direction string `yaml:"direction"` // schemas.DirectionFalling or schemas.DirectionRising
	// Threshold is an absolute failure threshold; nil to use Delta or
	// Relative. A device-reported threshold (DeviceThresholdMetric) wins
	// over all three.
	Threshold *float64 `yaml:"threshold"`
	// Delta places the threshold at the learned baseline + Delta (in
	// Unit; negative for falling signals).
	Delta float64 `yaml:"delta"`
	// Relative places the threshold at baseline × (1 + Relative).
	Relative float64 `yaml:"relative"`
	// Covariate is the metric of a gauge of the same component whose
	// effect is removed before the trend is fitted: the slope of the
	// signal on it is learned with the baseline (e.g. laser bias on the
	// transceiver's temperature, so a hot chassis does not read as an
	// ageing laser). Empty: none.
	Covariate string `yaml:"covariate"`
	// Counter says the metric is a counter: the signal is its rate per
	// second (a counter reset starts a new baseline, never a spike).
	Counter bool `yaml:"counter"`
	// DeviceThresholdMetric is the metric of the device's own alarm
	// threshold of this signal, if devices report one; its keys are the
	// component's plus ",severity=…".
	DeviceThresholdMetric string `yaml:"device_threshold_metric"`
}

func f64p(v float64) *float64 { return &v }

// DefaultSignals returns the signals tracked when Config.Signals is nil.
// Thresholds: rx power 4 dB below its healthy level (a typical link-budget
// margin), laser bias 35 % above its healthy level (an ageing laser's
// control loop holds Tx power by raising the bias current; corrected for the
// transceiver's temperature), fan speed 40 %
// below its healthy level, PSU efficiency 6 points below its healthy level,
// temperatures at 85 °C, inbound frame errors (FCS, and all input errors)
// at 1 per second: CRC corruption on a link is a persistent level (a dirty
// connector, damaged fibre, decaying transmitter), so a rising rate is
// worth a case before it gets there.
func DefaultSignals() []Signal {
	return []Signal{
		{Name: "optic_rx_power", Metric: schemas.MetricOpticInputPower, Unit: "dBm", Direction: schemas.DirectionFalling, Delta: -4, DeviceThresholdMetric: schemas.MetricThresholdInPowerLower},
		{Name: "laser_bias", Metric: schemas.MetricOpticLaserBias, Unit: "mA", Direction: schemas.DirectionRising, Relative: 0.35, DeviceThresholdMetric: schemas.MetricThresholdBiasUpper,
			Covariate: schemas.MetricTemperature},
		{Name: "fan_speed", Metric: schemas.MetricFanSpeed, Unit: "rpm", Direction: schemas.DirectionFalling, Relative: -0.4},
		{Name: "psu_efficiency", Metric: schemas.MetricPSUEfficiency, Unit: "ratio", Direction: schemas.DirectionFalling, Delta: -0.06},
		{Name: "temperature", Metric: schemas.MetricTemperature, Unit: "degC", Direction: schemas.DirectionRising, Threshold: f64p(85)},
		{Name: "fcs_error_rate", Metric: schemas.MetricInFCSErrors, Unit: "1/s", Direction: schemas.DirectionRising, Threshold: f64p(1), Counter: true},
		{Name: "rx_error_rate", Metric: schemas.MetricInErrors, Unit: "1/s", Direction: schemas.DirectionRising, Threshold: f64p(1), Counter: true},
	}
}

// Defaults of Config.
const (
	DefaultBucket        = time.Hour
	DefaultWindow        = 48
	DefaultMinBuckets    = 12
	DefaultMinFit        = 12
	DefaultBaseline      = 24
	DefaultHorizon       = 14 * 24 * time.Hour
	DefaultMinConfidence = 0.99
	DefaultMinProgress   = 0.15
	DefaultCloseAfter    = 3
	DefaultUpdateChange  = 0.1
	DefaultStale         = 6 * time.Hour
	DefaultSeason        = 24 * time.Hour
)

// Config configures a Tracker.
type Config struct {
	// Signals tracked; nil means DefaultSignals.
	Signals []Signal `yaml:"signals"`
	// Bucket is the time a series is reduced over to one median; default
	// DefaultBucket.
	Bucket time.Duration `yaml:"bucket"`
	// Window is how many buckets the trend is fitted over; default
	// DefaultWindow.
	Window int `yaml:"window"`
	// MinBuckets is the fewest buckets a trend is fitted on; default
	// DefaultMinBuckets.
	MinBuckets int `yaml:"min_buckets"`
	// MinFit is the fewest buckets of the recent part of the window that a
	// trend is fitted on when the degradation began inside the window;
	// default DefaultMinFit (a day of hourly buckets, so a daily swing is
	// not mistaken for a trend).
	MinFit int `yaml:"min_fit"`
	// Baseline is how many buckets the healthy baseline is learned over,
	// from the start of a series or after a replaced component; default
	// DefaultBaseline.
	Baseline int `yaml:"baseline"`
	// Horizon: a case opens only when the failure is predicted within it;
	// default DefaultHorizon.
	Horizon time.Duration `yaml:"horizon"`
	// MinConfidence is the Mann–Kendall confidence a trend needs to open a
	// case; default DefaultMinConfidence.
	MinConfidence float64 `yaml:"min_confidence"`
	// MinProgress is the share of the way from baseline to threshold the
	// level must have moved to open a case; default DefaultMinProgress.
	MinProgress float64 `yaml:"min_progress"`
	// CloseAfter is how many buckets in a row without the trend close a
	// case as recovered; default DefaultCloseAfter.
	CloseAfter int `yaml:"close_after"`
	// UpdateChange is how far (a share of the remaining lead time) the
	// prediction must move to emit an update; default DefaultUpdateChange.
	UpdateChange float64 `yaml:"update_change"`
	// Season is the period of the signals' regular swing (the daily load
	// cycle): a case's progress is judged on the median of the last Season
	// of buckets, so the swing is not mistaken for a degradation; default
	// DefaultSeason.
	Season time.Duration `yaml:"season"`
	// Stale is how long a series with an open case may stay silent before
	// the case closes as stale; default DefaultStale.
	Stale time.Duration `yaml:"stale"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Signals == nil {
		c.Signals = DefaultSignals()
	}
	cfgcheck.Default(&c.Bucket, DefaultBucket)
	cfgcheck.Default(&c.Window, DefaultWindow)
	cfgcheck.Default(&c.MinBuckets, DefaultMinBuckets)
	cfgcheck.Default(&c.MinFit, DefaultMinFit)
	cfgcheck.Default(&c.Baseline, DefaultBaseline)
	cfgcheck.Default(&c.Horizon, DefaultHorizon)
	cfgcheck.Default(&c.MinConfidence, DefaultMinConfidence)
	cfgcheck.Default(&c.MinProgress, DefaultMinProgress)
	cfgcheck.Default(&c.CloseAfter, DefaultCloseAfter)
	cfgcheck.Default(&c.UpdateChange, DefaultUpdateChange)
	cfgcheck.Default(&c.Season, DefaultSeason)
	cfgcheck.Default(&c.Stale, DefaultStale)
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	seen := map[string]bool{}
	for i, s := range c.Signals {
		switch {
		case s.Name == "" || s.Metric == "":
			return fmt.Errorf("signals[%d]: name and metric are required", i)
		case seen[s.Metric]:
			return fmt.Errorf("signals[%d].metric: %s is tracked twice", i, s.Metric)
		case s.Direction != schemas.DirectionFalling && s.Direction != schemas.DirectionRising:
			return fmt.Errorf("signals[%d].direction: %q is not falling or rising", i, s.Direction)
		case s.Threshold == nil && s.Delta == 0 && s.Relative == 0:
			return fmt.Errorf("signals[%d]: one of threshold, delta, relative is required", i)
		case s.Covariate == s.Metric:
			return fmt.Errorf("signals[%d].covariate: the signal's own metric", i)
		case s.Threshold != nil && (math.IsNaN(*s.Threshold) || math.IsInf(*s.Threshold, 0)):
			return fmt.Errorf("signals[%d].threshold: not finite", i)
		case s.Direction == schemas.DirectionFalling && (s.Delta > 0 || s.Relative > 0),
			s.Direction == schemas.DirectionRising && (s.Delta < 0 || s.Relative < 0):
			return fmt.Errorf("signals[%d]: delta and relative must point in the signal's direction (%s)", i, s.Direction)
		}
		seen[s.Metric] = true
	}
	return cfgcheck.First(
		cfgcheck.Check(c.Bucket < time.Second, "bucket: %v is below 1s", c.Bucket),
		cfgcheck.Between("window", c.Window, 4, 1000),
		cfgcheck.Check(c.MinBuckets < 4 || c.MinBuckets > c.Window, "min_buckets: %d must be between 4 and window (%d)", c.MinBuckets, c.Window),
		cfgcheck.AtLeast("min_fit", c.MinFit, 4),
		cfgcheck.AtLeast("baseline", c.Baseline, 1),
		cfgcheck.Positive("horizon", c.Horizon),
		cfgcheck.Check(c.MinConfidence <= 0.5 || c.MinConfidence >= 1, "min_confidence: %v must be in (0.5,1)", c.MinConfidence),
		cfgcheck.Check(c.MinProgress < 0 || c.MinProgress >= 1, "min_progress: %v must be in [0,1)", c.MinProgress),
		cfgcheck.AtLeast("close_after", c.CloseAfter, 1),
		cfgcheck.Positive("update_change", c.UpdateChange),
		cfgcheck.NonNegative("season", c.Season),
		cfgcheck.Positive("stale", c.Stale),
	)
}
