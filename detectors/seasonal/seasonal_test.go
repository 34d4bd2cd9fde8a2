package seasonal

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/telekernel/telekernel/detectors/internal/synth"
)

const day = 288 // points of five minutes

func run(t testing.TB, ts []int64, xs []float64) []Score {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Score, len(xs))
	for i, x := range xs {
		out[i] = d.Update(ts[i], x)
	}
	return out
}

// TestSeasonalBreak: the daily cycle (amplitude 20 sigma) stops at a peak.
// The value stays inside the series' overall range, so a plain z-score
// misses it, but it is far from what this time of day expects.
func TestSeasonalBreak(t *testing.T) {
	at := 4*day + day/4 // the top of the sine
	ts, clean := synth.Series(7, 5*day, 20, synth.None, at)
	s := run(t, ts, clean)
	maxNoise := 0.0
	for _, x := range s[2*day:] {
		maxNoise = math.Max(maxNoise, math.Abs(x.Z))
	}
	if maxNoise > 6 {
		t.Errorf("clean seasonal series scored |z| up to %.1f", maxNoise)
	}
	ts, xs := synth.Series(7, 5*day, 20, synth.SeasonalBreak, at)
	s = run(t, ts, xs)
	if s[at+3].Z > -8 {
		t.Errorf("seasonal break scored %+v, want z < -8", s[at+3])
	}
	if math.Abs(s[at].Expected-120) > 3 {
		t.Errorf("expected %.1f at the peak, want about 120", s[at].Expected)
	}
	d, _ := New(Config{})
	for i := range 3 * day {
		d.Add(ts[i], clean[i])
	}
	if st := d.Strength(ts[3*day]); st < 0.9 {
		t.Errorf("strength of a strong daily cycle %.2f, want > 0.9", st)
	}
	ts2, flat := synth.Series(8, 3*day, 0, synth.None, 0)
	d2, _ := New(Config{})
	for i := range flat {
		d2.Add(ts2[i], flat[i])
	}
	if st := d2.Strength(ts2[len(ts2)-1]); st > 0.5 {
		t.Errorf("strength of noise without a cycle %.2f, want < 0.5", st)
	}
}

func TestSpikeAndDip(t *testing.T) {
	for _, k := range []synth.Kind{synth.Spike, synth.Dip} {
		ts, xs := synth.Series(9, 3*day, 20, k, 2*day+100)
		s := run(t, ts, xs)
		if z := s[2*day+100].Z; math.Abs(z) < 6 {
			t.Errorf("kind %d scored z %.1f", k, z)
		}
	}
}

func TestNoLookAhead(t *testing.T) {
	ts, xs := synth.Series(10, 3*day, 20, synth.Spike, 2*day)
	full := run(t, ts, xs)
	for _, n := range []int{1, day, 2 * day, 2*day + 1} {
		for i, s := range run(t, ts[:n], xs[:n]) {
			if s != full[i] {
				t.Fatalf("prefix %d: point %d scored %+v, with more data %+v", n, i, s, full[i])
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	ts, xs := synth.Series(11, 3*day, 20, synth.None, 0)
	a, _ := New(Config{})
	for i := range 2 * day {
		a.Update(ts[i], xs[i])
	}
	st, _ := a.MarshalBinary()
	b, _ := New(Config{})
	if err := b.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	for i := 2 * day; i < len(xs); i++ {
		sa, sb := a.Update(ts[i], xs[i]), b.Update(ts[i], xs[i])
		if sa != sb {
			t.Fatalf("restored %+v, original %+v", sb, sa)
		}
	}
	c, _ := New(Config{Bins: 24})
	if err := c.UnmarshalBinary(st); err == nil {
		t.Fatal("state of 288 bins restored into 24")
	}
}

func BenchmarkUpdate(b *testing.B) {
	ts, xs := synth.Series(12, 4096, 20, synth.None, 0)
	d, _ := New(Config{})
	b.ReportAllocs()
	b.SetBytes(8)
	b.ReportMetric(float64(d.StateBytes()), "state-bytes")
	i := 0
	for b.Loop() {
		d.Update(ts[i&4095]+int64(i>>12)*4096*synth.Step, xs[i&4095])
		i++
	}
}

// busyLink returns n points of a busy link's rate read every 10 s: a daily
// cycle (trough at 08:00, peak at 20:00), a level that wanders by about
// 6 % with a half-hour memory, so one day differs from the next by that
// much, and 0.5 % noise (a load interval's average is smooth).
func busyLink(seed uint64, n int) ([]int64, []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	ts, xs := make([]int64, n), make([]float64, n)
	walk := 0.0
	for i := range n {
		ts[i] = int64(i) * 10e9
		h := math.Mod(float64(i)*10/3600, 24)
		walk = 0.995*walk + 0.006*rng.NormFloat64()
		xs[i] = 100 * (0.55 + 0.45*math.Cos(2*math.Pi*(h-20)/24)) * math.Exp(walk) * (1 + 0.005*rng.NormFloat64())
	}
	return ts, xs
}

// TestVisitStart: a series read 30 times a bin (10 s points, 5-minute
// bins). A bin's offset takes today's value within its first points, so
// at a bin's first point the expected value is yesterday's and its error
// is how today differs from yesterday, several times the error within a
// visit. Scored against the spread within a visit, every bin boundary
// scored |z| 10 or more on the day-to-day wander; against the spread of
// a visit's first points, decaying as the bin learns today, it does not.
// A halving in the middle of a visit still scores at once.
func TestVisitStart(t *testing.T) {
	const n = 4 * 8640
	ts, xs := busyLink(21, n)
	s := run(t, ts, xs)
	worst, at := 0.0, 0
	for i := 8640 + 8640/2; i < n; i++ { // from noon of the second day: the scale has seen half a day of visits
		if z := math.Abs(s[i].Z); z > worst {
			worst, at = z, i
		}
	}
	if worst > 6 {
		t.Errorf("clean busy link at 10 s: |z| %.1f at point %d (%d s into its bin), want at most 6", worst, at, (ts[at]/1e9)%300)
	}
	const drop = 3*8640 + 4000 + 15 // mid-visit on the fourth day
	half := append([]float64(nil), xs...)
	for i := drop; i < n; i++ {
		half[i] /= 2
	}
	s = run(t, ts, half)
	if z := s[drop].Z; z > -8 {
		t.Errorf("halved in the middle of a visit: z %.1f, want below -8", z)
	}
}

// TestVisitRoundTrip: a detector restored in the middle of a visit (10 s
// points) scores as the original; a detector that has seen one point
// writes the version 1 record a build before the visit's scales reads, and
// one that has seen more version 2, a series read once a bin too (its
// latest value's time: TestVersion1RoundTrip).
func TestVisitRoundTrip(t *testing.T) {
	ts, xs := busyLink(22, 3*8640)
	a, _ := New(Config{})
	const cut = 2*8640 + 17 // 170 s into a bin
	for i := range cut {
		a.Update(ts[i], xs[i])
	}
	st, _ := a.MarshalBinary()
	if st[1] != 2 {
		t.Fatalf("10 s points wrote version %d, want 2", st[1])
	}
	b, _ := New(Config{})
	if err := b.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	for i := cut; i < len(xs); i++ {
		if sa, sb := a.Update(ts[i], xs[i]), b.Update(ts[i], xs[i]); sa != sb {
			t.Fatalf("point %d: restored %+v, original %+v", i, sb, sa)
		}
	}
	five, _ := New(Config{})
	for i := 0; i < len(xs); i += 30 {
		five.Update(ts[i], xs[i])
	}
	if st, _ = five.MarshalBinary(); st[1] != 2 {
		t.Errorf("a point a bin wrote version %d, want 2", st[1])
	}
	one, _ := New(Config{})
	one.Update(ts[0], xs[0])
	if st, _ = one.MarshalBinary(); st[1] != 1 {
		t.Errorf("one point wrote version %d, want 1", st[1])
	}
}

// TestVisitRoundTripEveryPlace: restored at any place in a visit, the
// detector scores the rest of the day bit for bit as the uninterrupted
// one. The share of a visit's first scale kept at its k-th point, (1 −
// Gamma)^(k+1), is a product built point by point; restored as one power
// it differed in its last bits from the product at most places (k ≥ 3 at
// Gamma 0.2), and so did the score where that share sets the scale.
func TestVisitRoundTripEveryPlace(t *testing.T) {
	ts, xs := busyLink(22, 3*8640)
	const from, cuts, after = 2*8640 + 300, 60, 30 // a day and a bit in: the scales are warm
	u, _ := New(Config{})
	want := make([]Score, len(xs))
	states := map[int][]byte{}
	places := map[int]uint32{}
	for i := range from + cuts + after {
		if i >= from && i < from+cuts {
			states[i], _ = u.MarshalBinary()
			places[i] = u.pos(ts[i])
		}
		want[i] = u.Update(ts[i], xs[i])
	}
	for cut := from; cut < from+cuts; cut++ {
		b, _ := New(Config{})
		if err := b.UnmarshalBinary(states[cut]); err != nil {
			t.Fatal(err)
		}
		for i := cut; i < cut+after; i++ {
			if got := b.Update(ts[i], xs[i]); got != want[i] {
				t.Fatalf("restored before point %d (place %d in its visit), point %d: Z %v, uninterrupted %v", cut, places[cut], i, got.Z, want[i].Z)
			}
		}
	}
}

// TestKeptRoundTrip: the bins whose latest value was kept out (Keep) are
// reported by Kept until a value is added to them, and restore with the
// state (version 3): the restored detector scores the rest of the day bit
// for bit as the original; with no bin kept the record is version 2, as
// before Keep, and a version 2 record restores with none kept.
func TestKeptRoundTrip(t *testing.T) {
	ts, xs := busyLink(22, 3*8640)
	a, _ := New(Config{})
	const cut = 2*8640 + 17
	for i := range cut {
		if i >= cut-100 && i < cut-40 {
			a.Keep(ts[i]) // 10 minutes kept out
			continue
		}
		a.Update(ts[i], xs[i])
	}
	// Points are 10 s apart from a bin's start: cut-71 is in a bin kept
	// whole; cut-41's bin had values added after its kept ones; cut-160's
	// bin was left before the stretch.
	if !a.Kept(ts[cut-71]) || a.Kept(ts[cut-41]) || a.Kept(ts[cut-160]) {
		t.Fatal("Kept does not report the bin kept out, or reports another")
	}
	st, _ := a.MarshalBinary()
	if st[1] != 3 {
		t.Fatalf("bins kept: version %d, want 3", st[1])
	}
	b, _ := New(Config{})
	if err := b.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.kept, b.kept) {
		t.Fatalf("restored kept bins %x, original %x", b.kept, a.kept)
	}
	for i := cut; i < len(xs); i++ {
		if sa, sb := a.Update(ts[i], xs[i]), b.Update(ts[i], xs[i]); sa != sb || a.Kept(ts[i]) != b.Kept(ts[i]) {
			t.Fatalf("point %d: restored %+v, original %+v", i, sb, sa)
		}
	}
	if a.anyKept() {
		t.Error("a day later every bin has learned a value, yet some are kept")
	}
	// A version 2 record (nothing kept) restored over a detector with
	// bins kept leaves none kept.
	v2, _ := New(Config{})
	for i := range 100 {
		v2.Update(ts[i], xs[i])
	}
	st2, _ := v2.MarshalBinary()
	c, _ := New(Config{})
	c.Keep(ts[0])
	if err := c.UnmarshalBinary(st2); err != nil || st2[1] != 2 || c.anyKept() {
		t.Fatalf("version %d record: %v, kept %x", st2[1], err, c.kept)
	}
	other, _ := New(Config{Bins: 64})
	if err := other.UnmarshalBinary(st); err == nil {
		t.Fatal("a record of 288 bins restored into 64")
	}
}

// TestLearn: Learn moves the offset of its bin by gamma of the point's
// residual, as Add does, against the level as it was; it clears the bin's
// kept bit, and leaves the level, the scales and the visit as they were:
// another bin's expected value is unchanged, and the next point of the
// visit is scored against the same scale as if the learnt point had not
// come.
func TestLearn(t *testing.T) {
	ts, xs := busyLink(23, 2*8640)
	a, _ := New(Config{})
	for i := range 8640 + 100 {
		a.Update(ts[i], xs[i])
	}
	st, _ := a.MarshalBinary()
	b, _ := New(Config{})
	if err := b.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	at, x := ts[8640+100], 2*xs[8640+100]
	off := a.season[a.bin(at)]
	b.Keep(at)
	b.Learn(at, x)
	if b.Kept(at) {
		t.Error("the bin is still kept after Learn")
	}
	if got, want := b.season[b.bin(at)], off+b.cfg.Gamma*(x-a.level-off); got != want {
		t.Errorf("the bin's offset after Learn %v, want %v (before %v)", got, want, off)
	}
	if b.level != a.level || b.mae != a.mae || b.mae0 != a.mae0 || b.maeIn != a.maeIn || b.n != a.n || b.last != a.last {
		t.Errorf("Learn moved the level, a scale, the count or the visit: level %v / %v, n %d / %d", b.level, a.level, b.n, a.n)
	}
	other := ts[8640+100] + 3*3600e9
	if b.Score(other, 1).Expected != a.Score(other, 1).Expected {
		t.Error("Learn moved another bin")
	}
	next := ts[8640+101]
	if sb, sa := b.Score(next, xs[8640+101]), a.Score(next, xs[8640+101]); sb.Sigma != sa.Sigma || sb.Visit != sa.Visit {
		t.Errorf("the next point's scales %v / %v after Learn, %v / %v without the point", sb.Sigma, sb.Visit, sa.Sigma, sa.Visit)
	}
}

// TestUnvisitedBin: a bin with no offset yet (its points on the first day
// were all kept out, or missing) has no expectation: on the second day its
// points score as not warmed up (an ensemble then reads another baseline)
// rather than against the level alone, which on a busy link's profile is
// several times off; its neighbour scores as usual.
func TestUnvisitedBin(t *testing.T) {
	ts, xs := busyLink(24, 2*8640)
	d, _ := New(Config{})
	const kept = 8 * 3600 / 10 // 08:00: a bin's first reading
	for i := range 8640 {
		if i >= kept && i < kept+30 {
			d.Keep(ts[i])
			continue
		}
		d.Update(ts[i], xs[i])
	}
	for i := 8640; i < 8640+kept; i++ {
		d.Update(ts[i], xs[i])
	}
	if s := d.Score(ts[8640+kept], xs[8640+kept]); s.WarmedUp || s.Z != 0 {
		t.Errorf("the unvisited bin's first point on the second day: %+v, want not warmed up", s)
	}
	if s := d.Score(ts[8640+kept+30], xs[8640+kept+30]); !s.WarmedUp {
		t.Errorf("the next bin's first point: %+v, want warmed up", s)
	}
}

// TestForgetSince: ForgetSince drops the offsets of the bins from its
// first time's to its last's that learned their latest value, keeps a
// kept bin's (its older value) but not the last bin's, leaves the bins
// outside the stretch alone, wraps over the end of the period, takes
// every bin for a stretch of a period or more, and sets the level back;
// a dropped bin scores as not warmed up until its next visit starts it
// afresh from that visit's value.
func TestForgetSince(t *testing.T) {
	ts, xs := busyLink(25, 2*8640)
	fresh := func() *Detector {
		d, _ := New(Config{})
		for i := range 8640 + 100 {
			d.Update(ts[i], xs[i])
		}
		return d
	}
	d0 := ts[8640] // the second day's 00:00
	at := func(h, m int) int64 { return d0 + int64(h)*3600e9 + int64(m)*60e9 }
	for _, c := range []struct {
		name     string
		from, to int64
		kept     int64   // a bin kept out inside the stretch (0: none)
		dropped  []int64 // bins without an offset after
		intact   []int64 // bins with the offset they had
	}{
		{"stretch", at(2, 0), at(6, 0), at(2, 30), []int64{at(2, 0), at(4, 0), at(6, 0)}, []int64{at(2, 30), at(1, 55), at(6, 5)}},
		{"kept last bin", at(2, 0), at(6, 0), at(6, 0), []int64{at(2, 0), at(6, 0)}, []int64{at(6, 5)}},
		{"wraps", at(23, 0), at(23, 0) + 2*3600e9, 0, []int64{at(23, 55), at(0, 0), at(1, 0)}, []int64{at(22, 55), at(1, 5)}},
		{"a period", at(2, 0), at(2, 0) + 25*3600e9, at(12, 0), []int64{at(2, 0), at(11, 55), at(12, 5), at(1, 55)}, []int64{at(12, 0)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := fresh()
			if c.kept != 0 {
				d.Keep(c.kept)
			}
			before := slices.Clone(d.season)
			level := d.level
			d.ForgetSince(c.from, c.to, level/2)
			for _, b := range c.dropped {
				if off := d.season[d.bin(b)]; !math.IsNaN(off) {
					t.Errorf("the bin at %v kept its offset %v", time.Duration(b-d0), off)
				}
				if s := d.Score(b, 1e6); s.WarmedUp {
					t.Errorf("the bin at %v scores warmed up: %+v", time.Duration(b-d0), s)
				}
			}
			for _, b := range c.intact {
				if got, want := d.season[d.bin(b)], before[d.bin(b)]; got != want {
					t.Errorf("the bin at %v has offset %v, want its %v", time.Duration(b-d0), got, want)
				}
			}
			if d.level != level/2 {
				t.Errorf("level %v, want %v", d.level, level/2)
			}
		})
	}
	d := fresh()
	d.ForgetSince(at(2, 0), at(3, 0), d.level)
	next := at(2, 0) + 24*3600e9
	d.Add(next, 5e8)
	if s := d.Score(next+10e9, 5e8); !s.WarmedUp || math.Abs(s.Expected-5e8) > 0.01*5e8 {
		t.Errorf("the dropped bin's next visit, its second point: %+v, want warmed up and expecting its first, 5e8", s)
	}
}
