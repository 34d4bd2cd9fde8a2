package peer

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/telekernel/telekernel/schemas"
)

func newRule(t testing.TB) *Rule {
	t.Helper()
	r, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fans feeds rounds [from, to) of n fans whose speed at round i is
// speed(i, fan) and returns every change.
func fans(g *Group, from, to, n int, speed func(i, fan int) float64) []Change {
	var out []Change
	for i := from; i < to; i++ {
		for f := range n {
			out = g.Add(fmt.Sprintf("name=Fan%d", f+1), schemas.MetricFanSpeed, int64(i), speed(i, f), out)
		}
	}
	return out
}

// simFan is the simulator's fan (collectors/sim tick.go): 4000 rpm + 80
// per °C of the chassis' hottest sensor above 30 °C (a daily swing shared
// by the fans, and 0.3 °C of noise shared too), plus 40 rpm of its own
// noise, rounded to the rpm; worn by w it turns 1 − w/2 as fast.
func simFan(rng *rand.Rand, temp, w float64) float64 {
	return math.Round(math.Round(4000+80*(temp-30)+40*rng.NormFloat64()) * (1 - 0.5*w))
}

// dailyTemp is a chassis' hottest sensor at round i (10 s rounds): 38 °C
// + 18 °C × a load swinging between 0.1 and 0.5 over the day.
func dailyTemp(i int) float64 {
	return 38 + 18*(0.3+0.2*math.Sin(2*math.Pi*float64(i)/8640))
}

// TestPeerFanWear: a fan of two (and of three) wearing to half its speed
// over 720 rounds (the simulator's 2 h precursor at 10 s) after 3000
// healthy rounds, on 100 noise seeds each: it fires once, on the worn fan,
// never before the wear starts and never later than 3 rounds after the
// first symptom (sim.Config.FirstSymptom: the wear reaching 3 σ of the
// fan's own noise, 47 rpm, on the slowest healthy fan, 4640 rpm: 44
// rounds in), and resolves once the fan is replaced.
func TestPeerFanWear(t *testing.T) {
	const start, span, stop, seeds = 3000, 720, 4080, 100
	symptom := start + int(math.Ceil(3*math.Hypot(40, 24)/(0.5*4640)*span))
	for _, n := range []int{2, 3} {
		var lat []int
		for seed := range uint64(seeds) {
			rng := rand.New(rand.NewPCG(seed, 2))
			g := newRule(t).Group(Fan)
			var temp float64
			ch := fans(g, 0, 5000, n, func(i, f int) float64 {
				if f == 0 {
					temp = dailyTemp(i) + 0.3*rng.NormFloat64()
				}
				w := 0.0
				switch {
				case f != 0:
				case i >= start+span && i < stop:
					return 0 // stopped
				case i >= start && i < start+span:
					w = float64(i-start) / span
				}
				return simFan(rng, temp, w)
			})
			if len(ch) != 2 || ch[0].Member != "name=Fan1" || ch[0].Event != Fired || ch[0].TS < start || ch[0].TS > int64(symptom+3) ||
				ch[1].Event != Resolved || ch[1].TS < stop || ch[1].TS > stop+60 {
				t.Fatalf("%d fans, seed %d: %+v; want Fan1 firing in [%d, %d] and resolving in [%d, %d]", n, seed, ch, start, symptom+3, stop, stop+60)
			}
			lat = append(lat, int(ch[0].TS)-symptom)
		}
		slices.Sort(lat)
		t.Logf("%d fans: fired %d / %d / %d rounds after the first symptom (min / median / max of %d seeds)", n, lat[0], lat[len(lat)/2], lat[len(lat)-1], seeds)
	}
}

// simPSU feeds a round of two power supplies sharing dc watts as the
// simulator's power mode does (collectors/sim power.go): each delivers
// half with 0.5 % noise at the efficiency of its loss curve, less loss
// for the first; input voltage 230 V with 1.5 V of noise; readings
// rounded as the simulator rounds them.
func simPSU(g *Group, rng *rand.Rand, ts int64, dc, loss float64, out []Change) []Change {
	for p := range 2 {
		o := dc / 2 * (1 + 0.005*rng.NormFloat64())
		eff := o / (o + 8.1 + 0.04*o + 0.05*o*o/600)
		if p == 0 {
			eff -= loss
		}
		v := 230 + 1.5*rng.NormFloat64()
		name := fmt.Sprintf("name=PSU%d", p+1)
		out = g.Add(name, schemas.MetricPSUOutPower, ts, math.Round(o*100)/100, out)
		out = g.Add(name, schemas.MetricPSUInVoltage, ts, math.Round(v*100)/100, out)
		out = g.Add(name, schemas.MetricPSUInCurrent, ts, math.Round(o/eff/v*1000)/1000, out)
	}
	return out
}

// TestPeerPSUWear: a power supply whose efficiency falls by 0.1 over 720
// rounds, the load swinging daily, on 100 seeds: it fires once, on the
// worn supply, after the wear starts and before its first symptom (the
// input current up by 3 σ of its own noise: 163 rounds in), and resolves
// after the supply is replaced.
func TestPeerPSUWear(t *testing.T) {
	const start, span, stop, seeds = 3000, 720, 4080, 100
	need := 0.94 * (1 - 1/(1+3*math.Hypot(0.005, 1.5/230))) / 0.1
	symptom := start + int(math.Ceil(need*span))
	var lat []int
	for seed := range uint64(seeds) {
		rng := rand.New(rand.NewPCG(seed, 3))
		g := newRule(t).Group(PSU)
		var ch []Change
		for i := range 5000 {
			loss := 0.0
			switch {
			case i >= start+span && i < stop:
				loss = 0.1
			case i >= start && i < start+span:
				loss = 0.1 * float64(i-start) / span
			}
			dc := 200 + 100*math.Sin(2*math.Pi*float64(i)/8640)
			ch = simPSU(g, rng, int64(i), dc, loss, ch)
		}
		if len(ch) != 2 || ch[0].Member != "name=PSU1" || ch[0].Event != Fired || ch[0].TS < start || ch[0].TS > int64(symptom) ||
			ch[1].Event != Resolved || ch[1].TS < stop || ch[1].TS > stop+60 {
			t.Fatalf("seed %d: %+v; want PSU1 firing in [%d, %d] and resolving in [%d, %d]", seed, ch, start, symptom, stop, stop+60)
		}
		lat = append(lat, int(ch[0].TS)-symptom)
	}
	slices.Sort(lat)
	t.Logf("fired %d / %d / %d rounds after the first symptom (min / median / max of %d seeds)", lat[0], lat[len(lat)/2], lat[len(lat)-1], seeds)
}

// TestPeerQuietOnNoise: 10⁶ rounds of three fans (and of two) with
// Gaussian noise of their own, a daily swing far larger than the noise
// shared by all, a step of all siblings at once every 10 000 rounds, and a
// spike of 50 σ on one sibling every 500 rounds never fire.
func TestPeerQuietOnNoise(t *testing.T) {
	for _, n := range []int{2, 3} {
		rng := rand.New(rand.NewPCG(uint64(n), 9))
		g := newRule(t).Group(Fan)
		var temp float64
		ch := fans(g, 0, 1_000_000, n, func(i, f int) float64 {
			if f == 0 {
				temp = dailyTemp(i) + 0.3*rng.NormFloat64() + 5*float64(i/10000%2)
			}
			x := 4000 + 80*(temp-30) + 40*rng.NormFloat64()
			if f == n-1 && i%500 == 250 {
				x += 50 * 40 * float64(1-2*(i/500%2))
			}
			return x
		})
		if len(ch) != 0 {
			t.Errorf("%d fans: %d changes, first %+v; want none", n, len(ch), ch[0])
		}
	}
}

// TestPeerOneMember: a single fan is never judged, even when it stops.
func TestPeerOneMember(t *testing.T) {
	g := newRule(t).Group(Fan)
	ch := fans(g, 0, 3000, 1, func(i, _ int) float64 { return float64(5000 * (i / 2000 % 2)) })
	if len(ch) != 0 || g.Members() != 1 {
		t.Fatalf("%d changes, %d members; want none, 1", len(ch), g.Members())
	}
}

// TestPeerMissingSibling: a fan that stops reporting is forgotten after
// 60 rounds and its firing alert resolves; rounds close without it.
func TestPeerMissingSibling(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	g := newRule(t).Group(Fan)
	ch := fans(g, 0, 1000, 3, func(i, f int) float64 {
		x := 5000 + 40*rng.NormFloat64()
		if f == 2 && i >= 600 {
			x = 1000 // fires
		}
		return x
	})
	if len(ch) != 1 || ch[0].Member != "name=Fan3" || ch[0].Event != Fired {
		t.Fatalf("%+v; want Fan3 firing", ch)
	}
	ch = fans(g, 1000, 1100, 2, func(int, int) float64 { return 5000 + 40*rng.NormFloat64() })
	if len(ch) != 1 || ch[0].Member != "name=Fan3" || ch[0].Event != Resolved || g.Members() != 2 {
		t.Fatalf("%+v, %d members; want Fan3 resolved and forgotten", ch, g.Members())
	}
}

// TestPeerRoundTrip: a group restored from its record before a wear goes on
// exactly as the original, and damaged records fail.
func TestPeerRoundTrip(t *testing.T) {
	r := newRule(t)
	rngA, rngB := rand.New(rand.NewPCG(5, 5)), rand.New(rand.NewPCG(5, 5))
	a, b := r.Group(PSU), r.Group(PSU)
	var cha, chb []Change
	for i := range 3000 {
		loss := 0.1 * max(0, float64(i-2200)) / 720
		cha = simPSU(a, rngA, int64(i), 300, loss, cha)
		if i == 2100 {
			rec, _ := a.AppendBinary(nil)
			if rest, err := b.Decode(rec); err != nil || len(rest) != 0 {
				t.Fatalf("decode: %v, %d bytes left", err, len(rest))
			}
			for cut := range len(rec) - 1 {
				if _, err := r.Group(PSU).Decode(rec[:cut]); err == nil {
					t.Fatalf("a record cut at %d of %d decoded", cut, len(rec))
				}
			}
		}
		if i > 2100 {
			chb = simPSU(b, rngB, int64(i), 300, loss, chb)
		} else {
			simPSU(r.Group(PSU), rngB, int64(i), 300, loss, nil) // keep the streams in step
		}
	}
	ra, _ := a.AppendBinary(nil)
	rb, _ := b.AppendBinary(nil)
	if len(cha) != 1 || fmt.Sprint(cha) != fmt.Sprint(chb) || !bytes.Equal(ra, rb) {
		t.Fatalf("original %+v, restored %+v (records equal: %v); want one firing, the same", cha, chb, bytes.Equal(ra, rb))
	}
}

// TestPeerExtremeReadings feeds fans whose readings are finite but a
// broken sensor's (1e300 rpm beside 1e-300) and a power supply whose
// output over input overflows: the group's state stays one a restore
// accepts (FuzzRestoreState found a state that, once a reading moved
// it, wrote NaN variances no restore took), and a restore refuses records
// with readings that are not finite or departures beyond maxDeparture.
func TestPeerExtremeReadings(t *testing.T) {
	r := newRule(t)
	g := r.Group(Fan)
	fans(g, 0, 200, 3, func(i, f int) float64 {
		return []float64{1e300, 1e-300, 4000 + float64(i%7)}[(f+i)%3]
	})
	p := r.Group(PSU)
	for i := range 50 {
		ts := int64(i)
		for _, m := range []string{"name=PSU1", "name=PSU2"} {
			p.Add(m, schemas.MetricPSUInPower, ts, 1e-300, nil)
			p.Add(m, schemas.MetricPSUOutPower, ts, 1e300, nil)
		}
	}
	for _, g := range []*Group{g, p} {
		rec, _ := g.AppendBinary(nil)
		if _, err := r.Group(g.Kind()).Decode(rec); err != nil {
			t.Fatalf("%v group: its own state does not restore: %v", g.Kind(), err)
		}
	}
	// A member record of name "a", then its values, with one set to v.
	for _, tc := range []struct {
		field int // index of the float among x, out, volts, amps, inW, r1, r2, s, level, vr, vs
		v     float64
	}{{0, math.Inf(1)}, {4, math.NaN()}, {5, 2 * maxDeparture}, {7, -1.5}, {8, math.Inf(-1)}, {9, math.Inf(1)}, {10, -1}} {
		var m Group
		m.kind = Fan
		m.members = []member{{name: "a"}}
		st := &m.members[0]
		*[]*float64{&st.x, &st.out, &st.volts, &st.amps, &st.inW, &st.st.r1, &st.st.r2, &st.st.s, &st.st.level, &st.st.vr, &st.st.vs}[tc.field] = tc.v
		rec, _ := m.AppendBinary(nil)
		if _, err := r.Group(Fan).Decode(rec); err == nil {
			t.Errorf("a record with value %d set to %v restored", tc.field, tc.v)
		}
	}
}

// TestPeerMemberBytes: MemberBytes covers a member.
func TestPeerMemberBytes(t *testing.T) {
	if s := unsafe.Sizeof(member{}); s > MemberBytes {
		t.Fatalf("a member is %d bytes, MemberBytes says %d", s, MemberBytes)
	}
}

// TestPeerClassify: the kinds of the metrics.
func TestPeerClassify(t *testing.T) {
	for m, want := range map[string]Kind{schemas.MetricFanSpeed: Fan, schemas.MetricPSUInCurrent: PSU, schemas.MetricPSUOutPower: PSU,
		schemas.MetricPSUInVoltage: PSU, schemas.MetricPSUInPower: PSU, schemas.MetricTemperature: None, schemas.MetricInOctets: None} {
		if got := Classify(m); got != want || ParseKind(got.String()) != got {
			t.Errorf("Classify(%s) = %v, want %v", m, got, want)
		}
	}
}

// TestPeerSiblingOfLongWear: a fan of two wearing for 12 h (4320 rounds)
// before it is replaced: the worn fan fires once and resolves; its
// sibling, whose departure mirrors the wear (faster than the worn one),
// does not take that as its usual offset, so it fires nothing when the
// worn fan comes back.
func TestPeerSiblingOfLongWear(t *testing.T) {
	const start, span = 3000, 4320
	rng := rand.New(rand.NewPCG(4, 4))
	g := newRule(t).Group(Fan)
	var temp float64
	ch := fans(g, 0, start+span+3000, 2, func(i, f int) float64 {
		if f == 0 {
			temp = dailyTemp(i) + 0.3*rng.NormFloat64()
		}
		w := 0.0
		if f == 0 && i >= start && i < start+span {
			w = min(1, 2*float64(i-start)/span)
		}
		return simFan(rng, temp, w)
	})
	if len(ch) != 2 || ch[0].Member != "name=Fan1" || ch[0].Event != Fired || ch[1].Member != "name=Fan1" || ch[1].Event != Resolved {
		t.Fatalf("%+v; want Fan1 firing and resolving, nothing on Fan2", ch)
	}
}

// TestPeerNoAlloc: a warm group takes a round of readings without
// allocating (BenchmarkPeerAdd's 0 allocs/op).
func TestPeerNoAlloc(t *testing.T) {
	g := newRule(t).Group(Fan)
	rng := rand.New(rand.NewPCG(6, 6))
	names := []string{"name=Fan1", "name=Fan2", "name=Fan3"}
	var out []Change
	i := int64(0)
	round := func() {
		for _, n := range names {
			out = g.Add(n, schemas.MetricFanSpeed, i, 5000+40*rng.NormFloat64(), out[:0])
		}
		i++
	}
	for range 2 * DefaultWarmup {
		round()
	}
	if n := testing.AllocsPerRun(1000, round); n != 0 {
		t.Fatalf("%v allocations per round, want 0", n)
	}
}

// TestPeerAddAtSameAsAdd: AddAt with each member's index kept between its
// readings (and with wrong guesses) gives the same changes and the same
// state as Add, while members come, go silent, are forgotten and wear.
func TestPeerAddAtSameAsAdd(t *testing.T) {
	r := newRule(t)
	a, b := r.Group(Fan), r.Group(Fan)
	rng := rand.New(rand.NewPCG(7, 8))
	at := map[string]int{}
	var ca, cb []Change
	for i := range 4000 {
		for f := range 5 {
			name := fmt.Sprintf("name=Fan%d", f+1)
			if f == 3 && i%1000 > 900 || f == 4 && i < 500 { // silent long enough to be forgotten; joining late
				continue
			}
			w := 0.0
			if f == 1 && i > 2000 {
				w = min(1, float64(i-2000)/500)
			}
			v := simFan(rng, dailyTemp(i), w)
			ca = a.Add(name, schemas.MetricFanSpeed, int64(i), v, ca)
			h, ok := at[name]
			if !ok || rng.IntN(50) == 0 {
				h = rng.IntN(8) - 1 // a wrong or out-of-range guess now and then
			}
			cb = b.AddAt(&h, name, schemas.MetricFanSpeed, int64(i), v, cb)
			at[name] = h
		}
	}
	if len(ca) == 0 {
		t.Fatal("no changes: the test does not exercise the alerts")
	}
	if !slices.Equal(ca, cb) {
		t.Fatalf("AddAt changes differ from Add's: %d against %d", len(cb), len(ca))
	}
	ra, _ := a.AppendBinary(nil)
	rb, _ := b.AppendBinary(nil)
	if !bytes.Equal(ra, rb) {
		t.Fatal("AddAt state differs from Add's")
	}
}
