package ensemble

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestMetricsConfig(t *testing.T) {
	var m MetricsConfig
	src := `
counters: {cooldown: 50}
gauges: {fire: 0.6}
metrics:
  - metric: /components/component/state/temperature/instant
    seasonal_strength: 0.3
  - metric: /interfaces/interface/state/counters/*
    cooldown: 360
`
	if err := yaml.Unmarshal([]byte(src), &m); err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if c := m.For("/interfaces/interface/state/counters/in-octets", true); c.Cooldown != 360 || c.RobustZ.MinMAD != 1 {
		t.Errorf("counter override: %+v", c)
	}
	if c := m.For("/other/counter", true); c.Cooldown != 50 || c.EWMA.MinSigma != 1 {
		t.Errorf("counter default: %+v", c)
	}
	if c := m.For("/components/component/state/temperature/instant", false); c.SeasonalStrength != 0.3 || c.Fire != DefaultFire {
		t.Errorf("gauge override: %+v", c)
	}
	if c := m.For("/components/component/fan/state/speed", false); c.Fire != 0.6 {
		t.Errorf("gauge default: %+v", c)
	}
	m.Metrics = append(m.Metrics, MetricOverride{Metric: "/x", Config: Config{Cooldown: -1}})
	if err := m.Validate(); err == nil {
		t.Error("bad override accepted")
	}
}
