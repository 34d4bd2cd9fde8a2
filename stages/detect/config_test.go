package detect

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/telekernel/telekernel/detectors/drift"
	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/detectors/levelshift"
	"github.com/telekernel/telekernel/detectors/peer"
	"github.com/telekernel/telekernel/detectors/rate"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// TestDetectConfigAlertDeprecated: a file that still sets the gate under
// alert gives every series the ensemble configuration of the same gate
// written under detectors, and says so in one deprecation line; a file
// without it has none.
func TestDetectConfigAlertDeprecated(t *testing.T) {
	parse := func(doc string) Config {
		t.Helper()
		var c Config
		if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
			t.Fatal(err)
		}
		c = c.WithDefaults()
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if again := c.WithDefaults(); !reflect.DeepEqual(again, c) {
			t.Errorf("WithDefaults is not idempotent:\n%+v\n%+v", again, c)
		}
		return c
	}
	// The overrides: one leaves the gate unset, one sets min_z to the
	// stage default (6) while alert says 8, so resolve_z must come from
	// the ensemble's min(3, min_z/2) and not the default gate's.
	const overrides = `
    - {metric: /components/component/state/temperature/*, detectors: [robust_z]}
    - {metric: /system/cpu/*, min_z: 6}
    - {metric: /system/memory/*, min_z: 8, clear: 5}`
	old := parse(`
alert: {fire_z: 8, resolve_z: 2.5, confirm: 3}
detectors:
  counters: {confirm: 1}
  metrics:` + overrides)
	neu := parse(`
detectors:
  counters: {min_z: 8, resolve_z: 2.5, confirm: 1, clear: 3}
  gauges: {min_z: 8, resolve_z: 2.5, confirm: 3}
  metrics:
    - {metric: /components/component/state/temperature/*, detectors: [robust_z], min_z: 8, resolve_z: 2.5, confirm: 3}
    - {metric: /system/cpu/*, min_z: 6, resolve_z: 3, confirm: 3}
    - {metric: /system/memory/*, min_z: 8, resolve_z: 2.5, confirm: 3, clear: 5}`)
	metrics := []string{schemas.MetricInOctets, schemas.MetricPSUOutPower, "/components/component/state/temperature/instant",
		"/system/cpu/load", "/system/memory/used", "/other/gauge"}
	for _, m := range metrics {
		for _, counter := range []bool{true, false} {
			if o, n := old.EnsembleConfig(m, counter), neu.EnsembleConfig(m, counter); !reflect.DeepEqual(o, n) {
				t.Errorf("%s counter=%v:\nalert:     %+v\ndetectors: %+v", m, counter, o, n)
			}
		}
	}
	if cpu := old.EnsembleConfig("/system/cpu/load", false); cpu.MinZ != 6 || cpu.ResolveZ != 3 || cpu.Confirm != 3 {
		t.Errorf("cpu override min_z %v resolve_z %v confirm %d, want 6, 3, 3", cpu.MinZ, cpu.ResolveZ, cpu.Confirm)
	}
	if d := old.Deprecated(); !reflect.DeepEqual(d, []string{AlertDeprecation}) {
		t.Errorf("Deprecated() = %q, want the one alert line", d)
	}
	if d := neu.Deprecated(); d != nil {
		t.Errorf("Deprecated() = %q without alert", d)
	}
}

// TestGaugeDefaults: a gauge that is not a hardware sensor fires at
// DefaultGaugeFire, with DefaultGaugeCooldown and level_shift's
// DefaultGaugeLevelShiftSpread; counter rates and sensors keep the
// ensemble's defaults; a value set in the file wins.
func TestGaugeDefaults(t *testing.T) {
	type gate struct {
		fire     float64
		cooldown int
		spread   float64
	}
	counters := gate{ensemble.DefaultFire, ensemble.DefaultCooldown, levelshift.DefaultSpread}
	gauges := gate{DefaultGaugeFire, DefaultGaugeCooldown, DefaultGaugeLevelShiftSpread}
	f := func(doc, metric string, counter bool, want gate) {
		t.Helper()
		c := validConfig(t, doc)
		e := c.EnsembleConfig(metric, counter)
		if got := (gate{e.Fire, e.Cooldown, e.LevelShift.Spread}); got != want {
			t.Errorf("%s %s (counter %v): fire, cooldown, spread %v, want %v", doc, metric, counter, got, want)
		}
	}
	f("{}", "/system/cpus/cpu/state/total/instant", false, gauges)
	f("{}", "/nab/value", false, gauges)
	f("{}", schemas.MetricInOctets, true, counters)
	f("{}", schemas.MetricTemperature, false, counters)
	f("{}", schemas.MetricPSUOutPower, false, counters)
	for _, m := range sensorMetrics {
		f("{}", m, false, counters)
	}
	f("{}", "/qos/queues/queue/state/fan-out", false, gauges) // whole elements only
	f("{detectors: {gauges: {fire: 0.6, critical: 0.7}}}", "/nab/value", false, gate{0.6, DefaultGaugeCooldown, DefaultGaugeLevelShiftSpread})
	f("{detectors: {gauges: {cooldown: 100, level_shift: {spread: 0.3}}}}", "/nab/value", false, gate{DefaultGaugeFire, 100, 0.3})
	f("{detectors: {metrics: [{metric: /nab/*, cooldown: 7}]}}", "/nab/value", false, gate{DefaultGaugeFire, 7, DefaultGaugeLevelShiftSpread})

	// The repeat rule: a non-sensor gauge's by default, off for counter
	// rates and sensors, -1 turns it off, a set value wins.
	rp := func(doc, metric string, counter bool, want ensemble.RepeatConfig) {
		t.Helper()
		c := validConfig(t, doc)
		if got := c.EnsembleConfig(metric, counter).Repeat; got != want {
			t.Errorf("%s %s (counter %v): repeat %+v, want %+v", doc, metric, counter, got, want)
		}
	}
	on := ensemble.RepeatConfig{Count: DefaultGaugeRepeatCount, Window: DefaultGaugeRepeatWindow}
	rp("{}", "/nab/value", false, on)
	rp("{}", schemas.MetricInOctets, true, ensemble.RepeatConfig{})
	rp("{}", schemas.MetricTemperature, false, ensemble.RepeatConfig{})
	rp("{detectors: {gauges: {repeat: {count: -1}}}}", "/nab/value", false, ensemble.RepeatConfig{Count: -1})
	rp("{detectors: {gauges: {repeat: {count: 2, window: 100}}}}", "/nab/value", false, ensemble.RepeatConfig{Count: 2, Window: 100})
}

// TestRulesConfig: detect.rules sets the quiet, drift and peer rules (a
// zero field takes its rule's default), a bad value is refused with its
// path, and the stage is built with what was set.
func TestRulesConfig(t *testing.T) {
	c := Config{Rules: RulesConfig{Peer: peer.Config{Sigmas: 4}, Quiet: rate.QuietConfig{MinRun: 5}}}.WithDefaults()
	if c.Rules.Peer.Sigmas != 4 || c.Rules.Peer.Run != peer.DefaultRun || c.Rules.Quiet.MinRun != 5 || c.Rules.Drift != (drift.Config{}).WithDefaults() {
		t.Fatalf("rules after defaults: %+v", c.Rules)
	}
	for _, tc := range []struct {
		rules RulesConfig
		want  string
	}{
		{RulesConfig{Peer: peer.Config{Sigmas: -1}}, "rules.peer.sigmas, clip, min_noise: -1, 6, 0.002 must be positive"},
		{RulesConfig{Quiet: rate.QuietConfig{MaxBusy: 2}}, "rules.quiet."},
		{RulesConfig{Drift: drift.Config{Run: -1}}, "rules.drift."},
	} {
		err := Config{Rules: tc.rules}.WithDefaults().Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q…", tc.rules, err, tc.want)
		}
	}
	set := RulesConfig{Peer: peer.Config{Sigmas: 4}, Quiet: rate.QuietConfig{MinRun: 5}, Drift: drift.Config{Margin: 2}}
	d, err := New(Config{Rules: set}, "tk.detections", pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.peers.rule.Config().Sigmas; got != 4 {
		t.Errorf("the stage's peer rule: sigmas %v, want 4", got)
	}
	if got := d.quiet.Config().MinRun; got != 5 {
		t.Errorf("the stage's quiet rule: min_run %v, want 5", got)
	}
	if got := d.drift.Config().Margin; got != 2 {
		t.Errorf("the stage's drift rule: margin %v, want 2", got)
	}
}

// validConfig parses doc as the detect section, applies its defaults
// and validates it, failing the test on an error.
func validConfig(t *testing.T, doc string) Config {
	t.Helper()
	var c Config
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	return c
}

// TestFaultCounterDirection: a counter of faults alerts only on a rise
// (rate.FaultCounter) unless detectors: names a direction; other counters
// and gauges alert both ways; a bad direction is refused with its path.
func TestFaultCounterDirection(t *testing.T) {
	f := func(doc, metric string, counter bool, want string) {
		t.Helper()
		c := validConfig(t, doc)
		if got := c.EnsembleConfig(metric, counter).Direction; got != want {
			t.Errorf("%s %s: direction %q, want %q", doc, metric, got, want)
		}
	}
	const errs = "/interfaces/interface/state/counters/in-errors"
	f("{}", errs, true, ensemble.DirectionUp)
	f("{}", schemas.MetricInOctets, true, ensemble.DirectionBoth)
	f("{}", errs, false, ensemble.DirectionBoth)
	f("{detectors: {counters: {direction: both}}}", errs, true, ensemble.DirectionBoth)
	f("{detectors: {counters: {direction: down}}}", schemas.MetricInOctets, true, ensemble.DirectionDown)
	f("{detectors: {metrics: [{metric: /interfaces/*, direction: up}]}}", schemas.MetricInOctets, true, ensemble.DirectionUp)

	var c Config
	if err := yaml.Unmarshal([]byte("{detectors: {counters: {direction: sideways}}}"), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), `detectors.counters.direction: "sideways" must be up, down or both`) {
		t.Errorf("direction sideways: error %v", err)
	}
}

// TestCounterEventSizeConfig: a counter's level_shift event size is
// rate.CounterEventSize's unless detectors: sets it (negative: off), and
// min_events takes its default unless set; a bad value is refused with
// the field's path and what it must be.
func TestCounterEventSizeConfig(t *testing.T) {
	f := func(doc, metric string, size, events float64) {
		t.Helper()
		c := validConfig(t, doc)
		ls := c.EnsembleConfig(metric, true).LevelShift
		if ls.EventSize != size || ls.MinEvents != events {
			t.Errorf("%s %s: event_size %v, min_events %v, want %v, %v", doc, metric, ls.EventSize, ls.MinEvents, size, events)
		}
	}
	f("{}", schemas.MetricInOctets, rate.ByteEventSize, levelshift.DefaultMinEvents)
	f("{}", schemas.MetricInPkts, rate.CountEventSize, levelshift.DefaultMinEvents)
	f("{detectors: {counters: {level_shift: {event_size: -1}}}}", schemas.MetricInOctets, -1, levelshift.DefaultMinEvents)
	f("{detectors: {counters: {level_shift: {event_size: 100, min_events: 3}}}}", schemas.MetricInPkts, 100, 3)
	f("{detectors: {metrics: [{metric: /interfaces/*, level_shift: {min_events: 5}}]}}", schemas.MetricInOctets, rate.ByteEventSize, 5)

	bad := func(doc, want string) {
		t.Helper()
		var c Config
		if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if err := c.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", doc, err, want)
		}
	}
	bad("{detectors: {counters: {level_shift: {event_size: .nan}}}}", "detectors.counters.level_shift.event_size: NaN must be a number")
	bad("{detectors: {counters: {level_shift: {min_events: -1}}}}", "detectors.counters.level_shift.min_events: -1 must be")
	bad("{detectors: {metrics: [{metric: /x, level_shift: {min_events: 2e6}}]}}", "detectors.metrics[0].level_shift.min_events: 2e+06 must be positive and below 1e+06")
}
