package ensemble

import (
	"syscall"
	"testing"

	"github.com/telekernel/telekernel/detectors/internal/enc"
	"github.com/telekernel/telekernel/detectors/internal/synth"
	"github.com/telekernel/telekernel/detectors/likelihood"
	"github.com/telekernel/telekernel/detectors/rangebreak"
)

const day = 288

func run(t testing.TB, sh *Shared, ts []int64, xs []float64) []Result {
	e := sh.New()
	out := make([]Result, len(xs))
	for i := range xs {
		out[i] = e.Update(ts[i], xs[i])
	}
	return out
}

func shared(t testing.TB) *Shared {
	sh, err := NewShared(Config{})
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// TestAnomaliesFireOnce: every kind of injected anomaly fires an alert
// within a few points of its start, the alert names the detectors, carries
// a band that excludes the point, and the incident is one alert.
func TestAnomaliesFireOnce(t *testing.T) {
	sh := shared(t)
	at := 4*day + day/4
	for _, tc := range []struct {
		name  string
		kind  synth.Kind
		amp   float64
		delay int
	}{
		{"spike", synth.Spike, 0, 0},
		{"dip", synth.Dip, 0, 0},
		{"level shift", synth.LevelShift, 0, 10},
		{"variance change", synth.VarianceRatio, 0, 30},
		{"seasonal break", synth.SeasonalBreak, 20, 10},
	} {
		ts, xs := synth.Series(21, 5*day, tc.amp, tc.kind, at)
		rs := run(t, sh, ts, xs)
		fired := -1
		for i, r := range rs[at:] {
			if r.Transition == Fired {
				fired = at + i
				break
			}
		}
		if fired < 0 || fired > at+tc.delay {
			t.Errorf("%s: first alert at %d, want within %d points of %d", tc.name, fired, tc.delay, at)
			continue
		}
		r := rs[fired]
		if r.Fired == 0 || r.Score < sh.cfg.Fire {
			t.Errorf("%s: alert without a firing detector: %+v", tc.name, r)
		}
		if tc.kind == synth.Spike && !(xs[fired] > r.Upper) {
			t.Errorf("%s: point %.1f inside the band [%.1f, %.1f]", tc.name, xs[fired], r.Lower, r.Upper)
		}
		onsets := 0
		for _, r := range rs[at : at+day/2] {
			if r.Transition == Fired {
				onsets++
			}
		}
		if tc.kind != synth.VarianceRatio && onsets > 1 {
			t.Errorf("%s: %d alerts for one incident", tc.name, onsets)
		}
		t.Logf("%s: fired at +%d by %v (score %.3f)", tc.name, fired-at, r.Fired.Names(nil), r.Score)
	}
}

func TestQuietOnCleanSeries(t *testing.T) {
	sh := shared(t)
	for _, amp := range []float64{0, 20} {
		ts, xs := synth.Series(22, 6*day, amp, synth.None, 0)
		alerts := 0
		for _, r := range run(t, sh, ts, xs)[2*day:] {
			if r.Transition == Fired {
				alerts++
			}
		}
		// Records are broken by chance now and then; far fewer than one a day.
		if alerts > 4 {
			t.Errorf("amplitude %v: %d alerts in 4 clean days", amp, alerts)
		}
	}
}

// TestNoLookAhead proves a prefix's results do not change when more data
// is appended.
func TestNoLookAhead(t *testing.T) {
	sh := shared(t)
	ts, xs := synth.Series(23, 3*day, 20, synth.LevelShift, 2*day)
	full := run(t, sh, ts, xs)
	for _, n := range []int{1, 100, 2 * day, 2*day + 5} {
		for i, r := range run(t, sh, ts[:n], xs[:n]) {
			if r != full[i] {
				t.Fatalf("prefix %d: point %d: %+v, with more data %+v", n, i, r, full[i])
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	sh := shared(t)
	ts, xs := synth.Series(24, 4*day, 20, synth.Spike, 3*day)
	full := run(t, sh, ts, xs)
	e := sh.New()
	for i := range 2 * day {
		e.Update(ts[i], xs[i])
	}
	st, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	f := sh.New()
	if err := f.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	for i := 2 * day; i < len(xs); i++ {
		if r := f.Update(ts[i], xs[i]); r != full[i] {
			t.Fatalf("restored ensemble at %d: %+v, original %+v", i, r, full[i])
		}
	}
	other, _ := NewShared(Config{Detectors: []string{"robust_z", "ewma"}})
	if err := other.New().UnmarshalBinary(st); err == nil {
		t.Fatal("state restored into an ensemble of another configuration")
	}
	t.Logf("state: %d bytes encoded, %d bytes in memory", len(st), e.StateBytes())
}

func TestConfig(t *testing.T) {
	for _, c := range []Config{
		{Detectors: []string{"nope"}},
		{Detectors: []string{}},
		{Fire: 0.5, Resolve: 0.6},
		{Cooldown: -1},
		{SeasonalStrength: 2},
		{SpikeZ: 8},
		{MinZ: 6, SpikeZ: 4},
		{MinZ: 6, SpikeZ: -1},
		{Detectors: []string{"robust_z", "range_break"}, RangeBreak: rangebreak.Config{Warm: 1}},
	} {
		if _, err := NewShared(c); err == nil {
			t.Errorf("%+v: want an error", c)
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	ts, xs := synth.Series(25, 4096, 20, synth.None, 0)
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"all", Config{Detectors: []string{"robust_z", "ewma", "seasonal", "cusum", "forest"}}},
		{"statistical", Config{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			sh, _ := NewShared(tc.cfg)
			e := sh.New()
			b.ReportAllocs()
			b.SetBytes(16)
			b.ReportMetric(float64(e.StateBytes()), "state-bytes")
			i := 0
			cpu0 := cpuTime()
			for b.Loop() {
				e.Update(ts[i&4095]+int64(i>>12)*4096*synth.Step, xs[i&4095])
				i++
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime returns the process's user and system CPU time in nanoseconds:
// on a loaded machine it varies less than the wall time per operation.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// TestGate: with MinZ, an alert needs a point off the baseline by MinZ
// standard deviations as well as a record, stays on while the incident
// lasts (Hold keeps it out of the robust baseline) and resolves once the
// series is back within ResolveZ; clean series stay quiet.
func TestGate(t *testing.T) {
	sh, err := NewShared(Config{MinZ: 6, Hold: 360, Confirm: 2})
	if err != nil {
		t.Fatal(err)
	}
	if c := sh.Config(); c.BandZ != 6 || c.ResolveZ != 3 {
		t.Fatalf("gate defaults: band_z %v, resolve_z %v", c.BandZ, c.ResolveZ)
	}
	ts, xs := synth.Series(31, 5*day, 20, synth.None, 0)
	at, n := 4*day, 40
	for i := at; i < at+n; i++ {
		xs[i] += 100
	}
	rs := run(t, sh, ts, xs)
	var fired, resolved []int
	for i, r := range rs {
		switch r.Transition {
		case Fired:
			fired = append(fired, i)
			if r.Cause == 0 || !r.Cause.Has(r.CauseTop) || r.Z < 6 || !(xs[i] > r.Upper) {
				t.Errorf("onset at %d: %+v", i, r)
			}
		case Resolved:
			resolved = append(resolved, i)
		}
	}
	if len(fired) != 1 || fired[0] < at || fired[0] > at+2 || len(resolved) != 1 || resolved[0] < at+n || resolved[0] > at+n+5 {
		t.Fatalf("fired at %v, resolved at %v; incident at [%d, %d)", fired, resolved, at, at+n)
	}

	// Version 1 records (before the gate) still restore.
	e := sh.New()
	for i := range day {
		e.Update(ts[i], xs[i])
	}
	v1 := enc.AppendHeader(nil, enc.TagEnsemble, 1)
	v1 = enc.AppendBool(v1, e.al.Firing)
	v1 = enc.AppendI(v1, int64(e.al.Above))
	v1 = enc.AppendI(v1, int64(e.al.Below))
	v1 = enc.AppendF64(v1, e.al.Peak)
	v1 = enc.AppendI(v1, e.al.StartsAt)
	v1 = enc.AppendU(v1, e.n)
	v1 = enc.AppendU(v1, e.lastOnset)
	v3, _ := e.MarshalBinary()
	// The members follow the gate's fields (held 0, armed false, run peak,
	// run members and top, zero), version 3's level flag (false) and
	// version 4's pending run score per member (four, zero).
	members := v3[len(v1)+1+1+8+1+1+1+4*8:]
	f := sh.New()
	if err := f.UnmarshalBinary(append(v1, members...)); err != nil {
		t.Fatal(err)
	}
	for i := day; i < 2*day; i++ {
		if a, b := e.Update(ts[i], xs[i]), f.Update(ts[i], xs[i]); a != b {
			t.Fatalf("restored from version 1 at %d: %+v, original %+v", i, b, a)
		}
	}
}

// TestTinyRecord: a record so small (after millions of zero scores, or a
// restore) that a member's ratio to it overflows scores 1, not NaN: the
// point is warmed up and fires.
func TestTinyRecord(t *testing.T) {
	sh := shared(t)
	ts, xs := synth.Series(3, 3*day, 10, synth.None, 0)
	e := sh.New()
	for i := range xs {
		e.Update(ts[i], xs[i])
	}
	tiny, _ := likelihood.NewRecord(sh.Config().Calibration)
	for range 1000 {
		tiny.Skip(1) // warm: counted, the record stays 0
	}
	tiny.Raise(5e-324)
	st, _ := tiny.MarshalBinary()
	for _, c := range e.cal {
		if c != nil {
			if err := c.UnmarshalBinary(st); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := e.Update(ts[len(ts)-1]+synth.Step, xs[len(xs)-1]+1000)
	if !r.WarmedUp || r.Score != 1 || r.Fired == 0 {
		t.Errorf("score %v, warmed up %v, fired %v; want 1, true, some member", r.Score, r.WarmedUp, r.Fired)
	}
}
