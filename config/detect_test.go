package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/detect"
)

// detectMetrics are the series TestDetectOneHome compares: a counter, a
// sensor gauge, other gauges, and the paths of the metric overrides.
var detectMetrics = []string{schemas.MetricInOctets, schemas.MetricPSUOutPower, "/components/component/state/temperature/instant",
	"/system/cpu/load", "/system/memory/used", "/other/gauge"}

// detectOverrides are metric overrides that leave robust_z and hold unset
// (they take the deprecated sections' values) or set them.
const detectOverrides = `
    - {metric: /components/component/state/temperature/*, detectors: [robust_z]}
    - {metric: /system/cpu/*, hold: 50}
    - {metric: /system/memory/*, robust_z: {window: 90}}`

// detectOld sets the deprecated detect.counters, detect.gauges and
// detect.hold.
const detectOld = `
  counters: {window: 30, min_mad: 2}
  gauges: {min_mad_fraction: 0.05}
  hold: 100`

// TestDetectOldSpellingPinned pins the effective ensemble configuration of
// a file written with detect.counters, detect.gauges and detect.hold to
// the values those spellings gave before they were deprecated.
func TestDetectOldSpellingPinned(t *testing.T) {
	c := parseDetect(t, detectOld+`
  detectors:
    metrics:`+detectOverrides)
	f := func(metric string, counter bool, window int, minMAD, frac float64, hold int) {
		t.Helper()
		e := c.Detect.EnsembleConfig(metric, counter)
		if e.RobustZ.Window != window || e.RobustZ.MinMAD != minMAD || e.RobustZ.MinMADFraction != frac || e.Hold != hold {
			t.Errorf("%s counter=%v: robust_z %+v hold %d, want window %d min_mad %v min_mad_fraction %v hold %d",
				metric, counter, e.RobustZ, e.Hold, window, minMAD, frac, hold)
		}
	}
	f(schemas.MetricInOctets, true, 30, 2, 0.01, 100)
	f("/other/gauge", false, 60, 0, 0.05, 100)
	f("/system/cpu/load", false, 60, 0, 0.05, 50)
	f("/system/cpu/load", true, 30, 2, 0.01, 50)
	f("/system/memory/used", false, 90, 0, 0.01, 100)
	f("/components/component/state/temperature/instant", false, 60, 0, 0.05, 100)
	// Unset, the robust baseline's window is 60 (robustz's default, not
	// the ensemble's) and hold 360.
	d := parseDetect(t, "  states: {}")
	e := d.Detect.EnsembleConfig(schemas.MetricInOctets, true)
	if e.RobustZ.Window != 60 || e.RobustZ.MinMAD != 1 || e.Hold != 360 {
		t.Errorf("defaults: robust_z %+v hold %d, want window 60 min_mad 1 hold 360", e.RobustZ, e.Hold)
	}
	// A robust_z that is set takes the ensemble's defaults for the
	// fields it leaves out (window 480), as before.
	p := parseDetect(t, "  detectors: {counters: {robust_z: {min_mad: 2}}}")
	if e := p.Detect.EnsembleConfig(schemas.MetricInOctets, true); e.RobustZ.Window != 480 || e.RobustZ.MinMAD != 2 {
		t.Errorf("robust_z {min_mad: 2}: %+v, want window 480", e.RobustZ)
	}
}

func parseDetect(t *testing.T, section string) *Config {
	t.Helper()
	c, err := Parse("detect.yaml", []byte("detect:\n"+section+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDetectOneHome checks that detect.counters, detect.gauges and
// detect.hold, deprecated, give the same effective configuration as the
// same settings written in their one home (detectors.*.robust_z,
// detectors.*.hold, multivar.hold), and that each is named by one
// deprecation line.
func TestDetectOneHome(t *testing.T) {
	old := parseDetect(t, detectOld+`
  multivar:
    groups: [{name: g, metrics: [/a, /b]}]
  detectors:
    metrics:`+detectOverrides)
	neu := parseDetect(t, `
  multivar:
    groups: [{name: g, metrics: [/a, /b]}]
    hold: 100
  detectors:
    counters: {robust_z: {window: 30, min_mad: 2}, hold: 100}
    gauges: {robust_z: {window: 60, min_mad_fraction: 0.05}, hold: 100}
    metrics:
    - {metric: /components/component/state/temperature/*, detectors: [robust_z], robust_z: {window: 60, min_mad_fraction: 0.05}, hold: 100}
    - {metric: /system/cpu/*, robust_z: {window: 60, min_mad_fraction: 0.05}, hold: 50}
    - {metric: /system/memory/*, robust_z: {window: 90}, hold: 100}`)
	// An entry that leaves robust_z unset takes its kind's deprecated
	// section; the new spelling writes the one of the kind it matches
	// (gauges for the temperature and cpu entries).
	gaugeOnly := map[string]bool{"/components/component/state/temperature/instant": true, "/system/cpu/load": true}
	for _, m := range detectMetrics {
		for _, counter := range []bool{true, false} {
			if counter && gaugeOnly[m] {
				continue
			}
			if o, n := old.Detect.EnsembleConfig(m, counter), neu.Detect.EnsembleConfig(m, counter); !reflect.DeepEqual(o, n) {
				t.Errorf("%s counter=%v:\nold: %+v\nnew: %+v", m, counter, o, n)
			}
		}
	}
	if o, n := old.Detect.Multivar, neu.Detect.Multivar; !reflect.DeepEqual(o, n) || n.Hold != 100 {
		t.Errorf("multivar: old %+v, new %+v, want hold 100", o, n)
	}
	want := []string{"detect." + detect.CountersDeprecation, "detect." + detect.GaugesDeprecation, "detect." + detect.HoldDeprecation}
	if d := old.Deprecated(); !reflect.DeepEqual(d, want) {
		t.Errorf("Deprecated() = %q, want %q", d, want)
	}
	if d := neu.Deprecated(); d != nil {
		t.Errorf("Deprecated() = %q for the new spelling", d)
	}
	if again := old.Detect.WithDefaults(); !reflect.DeepEqual(again, old.Detect) {
		t.Errorf("WithDefaults is not idempotent:\n%+v\n%+v", again, old.Detect)
	}
	// The deprecated spellings' errors name the field as written.
	for doc, want := range map[string]string{
		"detect:\n  gauges: {window: 2}\n":  "detect.gauges.window",
		"detect:\n  hold: -1\n":             "detect.hold",
		"detect:\n  multivar: {hold: -1}\n": "detect.multivar.hold",
	} {
		if _, err := Parse("bad.yaml", []byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one naming %s", doc, err, want)
		}
	}
}
