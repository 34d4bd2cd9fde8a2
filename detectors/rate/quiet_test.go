package rate

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// sporadic feeds n intervals of a counter that moves on a share busy of
// them, at random, and returns the events.
func sporadic(q *Quiet, rng *rand.Rand, n int, busy float64) (fired, resolved int) {
	for range n {
		x := 0.0
		if rng.Float64() < busy {
			x = 0.1
		}
		switch q.Update(x) {
		case QuietFired:
			fired++
		case QuietResolved:
			resolved++
		}
	}
	return fired, resolved
}

// TestQuietFiresOnRun: a counter that moved on 5 % of intervals fires on
// the 6th or 7th moving interval in a row (the first run with busy^run <=
// 1e-8: 0.045^6, 0.05^7), resolves after 6 still ones, and a counter that
// never moved fires on the 3rd.
func TestQuietFiresOnRun(t *testing.T) {
	q, err := NewQuiet(QuietConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	if f, _ := sporadic(q, rng, 2000, 0.05); f != 0 {
		t.Fatalf("%d fired on 2000 sporadic intervals", f)
	}
	for q.Run() > 0 || q.Firing() { // end on a still interval
		q.Update(0)
	}
	busy := q.Busy()
	want := q.Config().Run(busy)
	if busy < 0.03 || busy > 0.08 || (want != 6 && want != 7) {
		t.Fatalf("busy %.3f, run to fire %d; want about 0.05 and 6 or 7", busy, want)
	}
	// The run itself raises the share a little, so it may take one more.
	fired := 0
	for i := 1; fired == 0 && i <= want+1; i++ {
		if q.Update(2) == QuietFired {
			fired = i
		}
	}
	if fired < want {
		t.Fatalf("fired on moving interval %d, want %d or %d", fired, want, want+1)
	}
	held := q.Busy()
	for range 100 { // firing: the fault is not learned
		q.Update(2)
	}
	if q.Busy() != held {
		t.Errorf("busy %.4f after 100 firing intervals, %.4f before", q.Busy(), held)
	}
	for i := 1; i <= DefaultQuietClear; i++ {
		ev := q.Update(0)
		if (ev == QuietResolved) != (i == DefaultQuietClear) {
			t.Fatalf("still interval %d: event %d", i, ev)
		}
	}
	still, _ := NewQuiet(QuietConfig{})
	for range 5000 {
		still.Update(0)
	}
	var evs []QuietEvent
	for range 3 {
		evs = append(evs, still.Update(1))
	}
	if want := []QuietEvent{QuietNone, QuietNone, QuietFired}; !slices.Equal(evs, want) {
		t.Errorf("a counter that never moved: events %v on 3 moving intervals, want %v", evs, want)
	}
}

// TestQuietKeepsQuietOnNoise: sporadic and busy counters fire (almost)
// never: no alert in 10^6 intervals at 5 % and 10 %, none on a counter that
// moves on 30 % (not quiet), none during the warm-up.
func TestQuietKeepsQuietOnNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, busy := range []float64{0.05, 0.1, 0.3} {
		q, _ := NewQuiet(QuietConfig{})
		if f, _ := sporadic(q, rng, 1_000_000, busy); f != 0 {
			t.Errorf("busy %.2f: %d alerts in 10^6 intervals", busy, f)
		}
	}
	q, _ := NewQuiet(QuietConfig{})
	for i := range DefaultQuietWarmup {
		if q.Update(1) != QuietNone {
			t.Fatalf("fired in the warm-up, interval %d", i)
		}
	}
}

// TestQuietRoundTrip: a restored rule continues exactly.
func TestQuietRoundTrip(t *testing.T) {
	a, _ := NewQuiet(QuietConfig{})
	rng := rand.New(rand.NewPCG(5, 6))
	sporadic(a, rng, 700, 0.05)
	b, _ := NewQuiet(QuietConfig{})
	rec, _ := a.AppendBinary([]byte("x"))
	rest, err := b.Decode(append(rec[1:], 'y'))
	if err != nil || !bytes.Equal(rest, []byte("y")) {
		t.Fatalf("decode: %v, rest %q", err, rest)
	}
	for i := range 3000 {
		x := 0.0
		if i%400 > 380 || rng.Float64() < 0.05 {
			x = 1
		}
		if ea, eb := a.Update(x), b.Update(x); ea != eb {
			t.Fatalf("interval %d: %d before the restore, %d after", i, ea, eb)
		}
	}
	if _, err := b.Decode(rec[1:5]); err == nil {
		t.Error("a short record decoded")
	}
}

func TestIsQuietCounter(t *testing.T) {
	f := func(metric string, want bool) {
		t.Helper()
		if got := IsQuietCounter(metric); got != want {
			t.Errorf("%s: %v, want %v", metric, got, want)
		}
	}
	f("/interfaces/interface/state/counters/in-errors", true)
	f("/interfaces/interface/state/counters/in-fcs-errors", true)
	f("/interfaces/interface/state/counters/out-errors", true)
	f("/interfaces/interface/state/counters/out-discards", false)
	f("/native/input-drops", false)
	f("/interfaces/interface/state/counters/in-octets", false)
	f("/interfaces/interface/state/counters/carrier-transitions", false)
	f("/components/component/state/errors", false)
}

func TestQuietConfigValidate(t *testing.T) {
	f := func(c QuietConfig, want string) {
		t.Helper()
		err := c.WithDefaults().Validate()
		if (err == nil) != (want == "") || (err != nil && !bytes.HasPrefix([]byte(err.Error()), []byte(want))) {
			t.Errorf("%+v: %v, want %q", c, err, want)
		}
	}
	f(QuietConfig{}, "")
	f(QuietConfig{Alpha: 2}, "alpha:")
	f(QuietConfig{MaxBusy: 1}, "max_busy:")
	f(QuietConfig{Clear: -1}, "clear:")
}

func BenchmarkQuiet(b *testing.B) {
	q, _ := NewQuiet(QuietConfig{})
	b.ReportAllocs()
	for i := range b.N {
		q.Update(float64(i % 20 / 19))
	}
}
