package ensemble

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// knnSeries is a noisy sine of period 20 points, amplitude 10, with its
// points [from, from+6) flattened to 2 (inside the usual range, a few
// sigmas off at most: a shape, not an extreme).
func knnSeries(n, from int) ([]int64, []float64) {
	rng := rand.New(rand.NewPCG(43, 44))
	ts, xs := make([]int64, n), make([]float64, n)
	for i := range n {
		ts[i], xs[i] = int64(i)*10e9, 100+10*math.Sin(2*math.Pi*float64(i)/20)+rng.NormFloat64()*0.3
		if i >= from && i < from+6 {
			xs[i] = 102 + rng.NormFloat64()*0.3
		}
	}
	return ts, xs
}

var knnMembers = []string{"robust_z", "ewma", "seasonal", "cusum", "knn"}

// TestKNNMember: a stretch whose shape is stranger than every recent one
// fires an alert, cause and top member knn; without the member nothing
// fires. The member also fires on the clean wave (a nonconformity 1.1 ×
// the largest of the last 64 is not rare): the reason it is not a default
// member (detectors/README.md, "A sixth round").
func TestKNNMember(t *testing.T) {
	ts, xs := knnSeries(1200, 800)
	for _, members := range [][]string{knnMembers, DefaultDetectors} {
		sh := rangeShared(t, members...)
		var fired []int
		for i, r := range run(t, sh, ts, xs) {
			if r.Transition != Fired {
				continue
			}
			fired = append(fired, i)
			if r.CauseTop != KNN || !r.Cause.Has(KNN) || r.Peak < sh.cfg.Fire {
				t.Errorf("%v: onset at %d: %+v", members, i, r)
			}
		}
		found := slices.ContainsFunc(fired, func(i int) bool { return i >= 800 && i < 806 })
		if sh.mask.Has(KNN) != found || !sh.mask.Has(KNN) && len(fired) > 0 {
			t.Errorf("%v: fired at %v", members, fired)
		}
		t.Logf("%v: fired at %v", members, fired)
	}
}

// TestKNNState: a state restored at any cut continues bit for bit; a
// record written without the member restores with it cold.
func TestKNNState(t *testing.T) {
	ts, xs := knnSeries(1200, 800)
	sh := rangeShared(t, knnMembers...)
	want := run(t, sh, ts, xs)
	for _, cut := range []int{5, 90, 500, 803} {
		a := sh.New()
		for i := range cut {
			a.Update(ts[i], xs[i])
		}
		rec, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b := sh.New()
		if err := b.UnmarshalBinary(rec); err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		for i := cut; i < len(xs); i++ {
			if got := b.Update(ts[i], xs[i]); got != want[i] {
				t.Fatalf("cut %d, point %d: restored %+v, want %+v", cut, i, got, want[i])
			}
		}
		for i := cut; i < len(xs); i++ {
			a.Update(ts[i], xs[i])
		}
		ra, _ := a.MarshalBinary()
		rb, _ := b.MarshalBinary()
		if !bytes.Equal(ra, rb) {
			t.Fatalf("cut %d: records differ at the end", cut)
		}
	}
	old := rangeShared(t, slices.DeleteFunc(slices.Clone(knnMembers), func(s string) bool { return s == "knn" })...).New()
	for i := range 500 {
		old.Update(ts[i], xs[i])
	}
	rec, _ := old.MarshalBinary()
	e := sh.New()
	if err := e.UnmarshalBinary(rec); err != nil || e.n != 500 {
		t.Fatalf("record without knn: %v, points %d", err, e.n)
	}
	if fresh, _ := sh.New().kn.MarshalBinary(); !bytes.Equal(mustMarshal(t, e.kn), fresh) {
		t.Errorf("record without knn: the member is not cold")
	}
}

func mustMarshal(t *testing.T, m interface{ MarshalBinary() ([]byte, error) }) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
