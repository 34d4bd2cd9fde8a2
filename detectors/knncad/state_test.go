package knncad

import "testing"

// TestRoundTrip: a detector restored from its state at any point (cold,
// filling, wrapped) scores bit-for-bit like the original from then on, and
// the encoding stores overlapping shingles once.
func TestRoundTrip(t *testing.T) {
	xs := series(3000)
	for _, cfg := range []Config{{Dim: 20, Train: 400, Calib: 400, K: 3}, {Dim: 5, Train: 50, Calib: 30, K: 2, Gap: 4}} {
		for _, cut := range []int{0, 3, cfg.Dim + 10, 300, 1200, 2999} {
			a, _ := New(cfg)
			for _, x := range xs[:cut] {
				a.Update(x)
			}
			st, err := a.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := New(cfg)
			if err := b.UnmarshalBinary(st); err != nil {
				t.Fatalf("%+v cut %d: %v", cfg, cut, err)
			}
			for i, x := range xs[cut:] {
				if sa, sb := a.Update(x), b.Update(x); sa != sb {
					t.Fatalf("%+v cut %d: point %d: restored %+v, original %+v", cfg, cut, cut+i, sb, sa)
				}
			}
			if cut == 1200 {
				if full := 8 * (cfg.Train + cfg.Gap) * cfg.Dim; len(st) > 8*(cfg.Train+cfg.Gap+cfg.Dim-1)+8*(cfg.Dim+cfg.Calib)+64 {
					t.Errorf("%+v: state of %d bytes (vectors whole: %d)", cfg, len(st), full)
				}
				t.Logf("%+v: %d bytes encoded, %d in memory", cfg, len(st), a.StateBytes())
			}
		}
	}
	a, _ := New(Config{Dim: 5, Train: 50, Calib: 30})
	for _, x := range xs[:200] {
		a.Update(x)
	}
	st, _ := a.MarshalBinary()
	b, _ := New(Config{Dim: 6, Train: 50, Calib: 30})
	if err := b.UnmarshalBinary(st); err == nil {
		t.Error("state restored into a detector of another configuration")
	}
	st[1] = 9
	if err := a.UnmarshalBinary(st); err == nil {
		t.Error("unknown version accepted")
	}
	if err := a.UnmarshalBinary(st[:len(st)/2]); err == nil {
		t.Error("truncated record accepted")
	}
}

// TestRoundTripFullVectors: vectors that are not consecutive shingles
// (never produced by Update, but a record must not depend on it) are
// written whole and restored exactly.
func TestRoundTripFullVectors(t *testing.T) {
	xs := series(500)
	a, _ := New(Config{Dim: 4, Train: 30, Calib: 20})
	for _, x := range xs[:200] {
		a.Update(x)
	}
	a.vecs[5] += 1e-9
	st, _ := a.MarshalBinary()
	b, _ := New(Config{Dim: 4, Train: 30, Calib: 20})
	if err := b.UnmarshalBinary(st); err != nil {
		t.Fatal(err)
	}
	for _, x := range xs[200:] {
		if sa, sb := a.Update(x), b.Update(x); sa != sb {
			t.Fatalf("restored %+v, original %+v", sb, sa)
		}
	}
}
