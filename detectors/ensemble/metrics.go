package ensemble

import (
	"fmt"
	"strings"
)

// MetricsConfig is the per-metric detector configuration a stage embeds in
// its YAML: defaults by metric kind, and overrides by metric path.
//
//	detectors:
//	  counters: {robust_z: {min_mad: 1}, ewma: {min_sigma: 1}}
//	  gauges: {}
//	  metrics:
//	    - metric: /components/component/state/temperature/instant
//	      seasonal_strength: 0.3
//	    - metric: /interfaces/interface/state/counters/*
//	      cooldown: 360
//
// Counters are scored as rates (after detectors/rate); states are not
// scored by the ensemble.
type MetricsConfig struct {
	// Counters configures counter rates. Zero fields take
	// CounterDefaults.
	Counters Config `yaml:"counters"`
	// Gauges configures gauges. Zero fields take the ensemble defaults.
	Gauges Config `yaml:"gauges"`
	// Metrics overrides the kind's configuration for matching metrics; the
	// first match wins.
	Metrics []MetricOverride `yaml:"metrics"`
}

// MetricOverride is the configuration of the metrics matching Metric: an
// exact path, or a prefix ending in "*".
type MetricOverride struct {
	Metric string `yaml:"metric"`
	Config `yaml:",inline"`
}

// CounterDefaults returns c with the counter-rate defaults filled in: a
// floor of 1 unit/s on the spread, so a quiet error counter that counts a
// few errors does not fire.
func CounterDefaults(c Config) Config {
	if c.RobustZ.MinMAD == 0 {
		c.RobustZ.MinMAD = 1
	}
	if c.EWMA.MinSigma == 0 {
		c.EWMA.MinSigma = 1
	}
	return c
}

func (o MetricOverride) matches(metric string) bool {
	if p, ok := strings.CutSuffix(o.Metric, "*"); ok {
		return strings.HasPrefix(metric, p)
	}
	return o.Metric == metric
}

// For returns the configuration of metric (with defaults applied); counter
// tells the kind.
func (m MetricsConfig) For(metric string, counter bool) Config {
	c := m.Match(metric, counter)
	if counter {
		c = CounterDefaults(c)
	}
	return c.WithDefaults()
}

// Match returns the configuration of metric as written: the first
// matching override, else the kind's section; no defaults are applied, so
// a caller can fill its own before WithDefaults.
func (m MetricsConfig) Match(metric string, counter bool) Config {
	c := m.Gauges
	if counter {
		c = m.Counters
	}
	for _, o := range m.Metrics {
		if o.matches(metric) {
			return o.Config
		}
	}
	return c
}

// Validate reports the first bad field, with its path.
func (m MetricsConfig) Validate() error {
	if err := CounterDefaults(m.Counters).WithDefaults().Validate(); err != nil {
		return fmt.Errorf("counters.%w", err)
	}
	if err := m.Gauges.WithDefaults().Validate(); err != nil {
		return fmt.Errorf("gauges.%w", err)
	}
	for i, o := range m.Metrics {
		if o.Metric == "" {
			return fmt.Errorf("metrics[%d].metric: must not be empty", i)
		}
		if err := o.Config.WithDefaults().Validate(); err != nil {
			return fmt.Errorf("metrics[%d].%w", i, err)
		}
	}
	return nil
}
