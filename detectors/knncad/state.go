package knncad

import (
	"fmt"
	"math"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

const stateVersion = 1

// Vector encodings of a state record.
const (
	// vecsShingled: the stored vectors are consecutive shingles of the
	// stream (each the previous one shifted by one value), so the oldest
	// is written whole and every later one by its newest value.
	vecsShingled = 1
	// vecsFull: every vector written whole.
	vecsFull = 2
)

// MarshalBinary encodes the state: a kind tag, a version byte (1), the
// configuration (so a record never restores into a detector of another
// shape), the scaling range, the shingle, the nonconformities and the
// stored vectors oldest first. The vectors overlap (each is the previous
// shifted by one value), so they take Train+Gap+Dim−1 values, not
// (Train+Gap)·Dim. A restored detector scores bit-for-bit like the
// original.
func (d *Detector) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst.
func (d *Detector) AppendBinary(dst []byte) ([]byte, error) {
	c := &d.cfg
	dst = enc.AppendHeader(dst, enc.TagKNNCAD, stateVersion)
	for _, v := range []int{c.Dim, c.Train, c.Calib, c.K, c.Gap} {
		dst = enc.AppendU(dst, uint64(v))
	}
	dst = enc.AppendU(dst, d.n)
	dst = enc.AppendF64(dst, d.lo)
	dst = enc.AppendF64(dst, d.hi)
	// The shingle oldest first; its position is implied by n.
	sh := make([]float64, 0, c.Dim)
	for i := range c.Dim {
		sh = append(sh, d.shingle[(d.spos+i)%c.Dim])
	}
	dst = enc.AppendF64s(dst, sh)
	ncm := make([]float64, 0, d.nncm)
	for i := range d.nncm {
		ncm = append(ncm, d.ncm[(d.npos-d.nncm+i+c.Calib)%c.Calib])
	}
	dst = enc.AppendF64s(dst, ncm)
	slots := c.Train + c.Gap
	vec := func(j int) []float64 { // j-th oldest stored vector
		idx := (d.vpos - d.nvec + j + slots) % slots
		return d.vecs[idx*c.Dim : (idx+1)*c.Dim]
	}
	shingled := true
	for j := 1; j < d.nvec && shingled; j++ {
		prev, cur := vec(j-1), vec(j)
		for i := 1; i < c.Dim; i++ {
			if !same(prev[i], cur[i-1]) {
				shingled = false
				break
			}
		}
	}
	dst = enc.AppendU(dst, uint64(d.nvec))
	if d.nvec == 0 {
		return dst, nil
	}
	var vals []float64
	if shingled {
		dst = append(dst, vecsShingled)
		vals = append(vals, vec(0)...)
		for j := 1; j < d.nvec; j++ {
			vals = append(vals, vec(j)[c.Dim-1])
		}
	} else {
		dst = append(dst, vecsFull)
		for j := range d.nvec {
			vals = append(vals, vec(j)...)
		}
	}
	return enc.AppendF64s(dst, vals), nil
}

// same reports bit-for-bit equality: the values were copied.
func same(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// UnmarshalBinary restores a state written by a detector of the same
// configuration.
func (d *Detector) UnmarshalBinary(b []byte) error {
	c := d.cfg
	r := enc.Reader{B: b}
	r.Header(enc.TagKNNCAD, stateVersion)
	for _, want := range []int{c.Dim, c.Train, c.Calib, c.K, c.Gap} {
		if v := r.U(); r.Err == nil && v != uint64(want) {
			return fmt.Errorf("knncad: state of another configuration (dim, train, calib, k, gap differ)")
		}
	}
	n := r.U()
	lo, hi := r.F64(), r.F64()
	sh := r.F64s(nil, c.Dim)
	ncm := r.F64s(nil, c.Calib)
	slots := c.Train + c.Gap
	nvec := int(r.U())
	var vals []float64
	var mode byte
	if nvec > 0 {
		if len(r.B) > 0 {
			mode, r.B = r.B[0], r.B[1:]
		}
		vals = r.F64s(nil, slots*c.Dim)
	}
	if err := r.Done(); err != nil {
		return fmt.Errorf("knncad: %w", err)
	}
	switch {
	case len(sh) != c.Dim || nvec > slots:
		return fmt.Errorf("knncad: state record does not fit the configuration")
	case nvec > 0 && mode == vecsShingled && len(vals) != c.Dim+nvec-1,
		nvec > 0 && mode == vecsFull && len(vals) != c.Dim*nvec,
		nvec > 0 && mode != vecsShingled && mode != vecsFull:
		return fmt.Errorf("knncad: state record's vectors are malformed")
	}
	// Rebuild the rings with the positions the writer had: the shingle's
	// position follows from n, the others are laid out oldest first from
	// slot 0.
	e := Detector{cfg: c, shingle: d.shingle, vecs: d.vecs, ncm: d.ncm, best: d.best[:0], cur: d.cur, tmp: d.tmp}
	e.n, e.lo, e.hi = n, lo, hi
	e.spos = int(n % uint64(c.Dim))
	for i, v := range sh {
		e.shingle[(e.spos+i)%c.Dim] = v
	}
	clear(e.ncm)
	copy(e.ncm, ncm)
	e.nncm, e.npos = len(ncm), len(ncm)%c.Calib
	clear(e.vecs)
	for j := range nvec {
		v := e.vecs[j*c.Dim : (j+1)*c.Dim]
		if mode == vecsShingled {
			copy(v, vals[j:j+c.Dim])
		} else {
			copy(v, vals[j*c.Dim:(j+1)*c.Dim])
		}
	}
	e.nvec, e.vpos = nvec, nvec%slots
	*d = e
	return nil
}
