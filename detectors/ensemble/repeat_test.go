package ensemble

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/detectors/robustz"
)

// repeatSeries is noise of sigma 1 around 100 with runs of 20 points
// (start, offset in sigmas).
func repeatSeries(n int, runs [][2]int) []float64 {
	rng := rand.New(rand.NewPCG(41, 42))
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = 100 + rng.NormFloat64()
		for _, r := range runs {
			if i >= r[0] && i < r[0]+20 {
				xs[i] += float64(r[1])
			}
		}
	}
	return xs
}

func repeatShared(t *testing.T, rep RepeatConfig) *Shared {
	t.Helper()
	sh, err := NewShared(Config{MinZ: 6, Confirm: 2, Hold: 360, RobustZ: robustz.Config{Window: 60}, Repeat: rep})
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// TestGateRepeat: with repeat {count 3, window 3000}, the first three runs
// of a size fire and a fourth as large within the window does not; a
// larger fourth fires, and so does the same fourth once the first alert is
// older than the window. Without the rule every run fires.
func TestGateRepeat(t *testing.T) {
	on := RepeatConfig{Count: 3, Window: 3000}
	f := func(name string, rep RepeatConfig, n int, runs [][2]int, want []int) {
		t.Helper()
		e := repeatShared(t, rep).New()
		var fired []int
		for i, x := range repeatSeries(n, runs) {
			if e.Update(int64(i)*10e9, x).Transition == Fired {
				fired = append(fired, i)
			}
		}
		if !slices.Equal(fired, want) {
			t.Errorf("%s: fired at %v, want %v", name, fired, want)
		}
	}
	four := [][2]int{{500, 40}, {1000, 40}, {1500, 40}, {2000, 40}}
	f("off", RepeatConfig{}, 3000, four, []int{501, 1001, 1501, 2001})
	f("off (-1)", RepeatConfig{Count: -1}, 3000, four, []int{501, 1001, 1501, 2001})
	f("the fourth is the habit", on, 3000, four, []int{501, 1001, 1501})
	f("a larger fourth", on, 3000, [][2]int{{500, 40}, {1000, 40}, {1500, 40}, {2000, 60}}, []int{501, 1001, 1501, 2001})
	f("the fourth after the window", on, 5000, [][2]int{{500, 40}, {1000, 40}, {1500, 40}, {3600, 40}}, []int{501, 1001, 1501, 3601})
	f("clean", on, 5000, nil, nil)
	// A habit that keeps recurring within the window stays one, whether
	// its runs still break a record or not: the runs it finds habitual
	// renew the alerts they matched (before, every fourth to sixth run
	// of an hourly job fired again, day after day).
	var hourly [][2]int
	for i := 500; i < 20000; i += 1000 {
		hourly = append(hourly, [2]int{i, 40})
	}
	f("a recurring habit", on, 20000, hourly, []int{501, 1501, 2501})
	f("a recurring habit, then a larger run", on, 20500, append(hourly, [2]int{20000, 60}), []int{501, 1501, 2501, 20001})
}

// TestCooldownBreak: within the cooldown of a 12-sigma alert, a run
// 400 sigmas off fires (an order of magnitude farther: news, not the same
// incident) and one 40 sigmas off does not; without the repeat rule's
// memory the 400-sigma run does not fire either (the cooldown alone).
func TestCooldownBreak(t *testing.T) {
	f := func(name string, rep RepeatConfig, second int, want []int) {
		t.Helper()
		e := repeatShared(t, rep).New()
		var fired []int
		for i, x := range repeatSeries(1000, [][2]int{{500, 12}, {560, second}}) {
			if e.Update(int64(i)*10e9, x).Transition == Fired {
				fired = append(fired, i)
			}
		}
		if !slices.Equal(fired, want) {
			t.Errorf("%s: fired at %v, want %v", name, fired, want)
		}
	}
	on := RepeatConfig{Count: 3, Window: 3000}
	f("400 sigmas", on, 400, []int{501, 561})
	f("40 sigmas", on, 40, []int{501})
	f("400 sigmas, no memory", RepeatConfig{}, 400, []int{501})
}

// TestRepeatState: a record written mid-series restores the repeat memory
// (the restored ensemble scores exactly as the original); without the
// rule the record stays version 5.
func TestRepeatState(t *testing.T) {
	runs := [][2]int{{500, 40}, {1000, 40}, {1500, 40}, {2000, 40}, {2500, 50}}
	xs := repeatSeries(3000, runs)
	sh := repeatShared(t, RepeatConfig{Count: 3, Window: 3000})
	e := sh.New()
	for i := range 1800 {
		e.Update(int64(i)*10e9, xs[i])
	}
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if b[1] != 6 {
		t.Fatalf("version %d with the rule, want 6", b[1])
	}
	f := sh.New()
	if err := f.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	fired := 0
	for i := 1800; i < len(xs); i++ {
		a, g := e.Update(int64(i)*10e9, xs[i]), f.Update(int64(i)*10e9, xs[i])
		if a != g {
			t.Fatalf("restored at %d: %+v, original %+v", i, g, a)
		}
		if a.Transition == Fired {
			fired++
		}
	}
	if fired != 1 { // 2000 is the habit, 2500 is larger
		t.Errorf("%d alerts after the restore, want 1", fired)
	}
	off := repeatShared(t, RepeatConfig{}).New()
	off.Update(0, 1)
	if b, _ := off.MarshalBinary(); b[1] != 5 {
		t.Errorf("version %d without the rule, want 5", b[1])
	}
	// A memory written with another count restores empty, not an error.
	g := repeatShared(t, RepeatConfig{Count: 2, Window: 3000}).New()
	if err := g.UnmarshalBinary(b); err != nil {
		t.Errorf("version 5 record into a repeat ensemble: %v", err)
	}
}

func TestRepeatValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{MinZ: 6, Repeat: RepeatConfig{Count: 9, Window: 10}}, "repeat.count: 9 must be in [-1, 8]"},
		{Config{MinZ: 6, Repeat: RepeatConfig{Count: 3}}, "repeat.window: 0 must be at least 1 with count 3"},
		{Config{Repeat: RepeatConfig{Count: 3, Window: 10}}, "repeat.count: 3 needs min_z"},
	} {
		err := tc.cfg.WithDefaults().Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg.Repeat, err, tc.want)
		}
	}
}
