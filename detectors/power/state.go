package power

import (
	"errors"
	"fmt"

	"github.com/telekernel/telekernel/detectors/internal/enc"
)

// State record kind tag and version of a Model. The tag is outside the
// range of detectors/internal/enc's tags.
const (
	tagModel     byte = 0x70
	modelVersion byte = 1
)

// ErrIncompatibleState is wrapped by RestoreState when a state was written
// by another state version or under other priors (another set of speeds):
// the model should start from its priors.
var ErrIncompatibleState = errors.New("incompatible power model state")

// AppendState appends the model's state (sufficient statistics, solution,
// residual scale, point count) to dst. The model's priors are part of the
// configuration and are not written; the speeds are, so a restore under
// other priors is refused rather than misread.
func (m *Model) AppendState(dst []byte) []byte {
	dst = enc.AppendHeader(dst, tagModel, modelVersion)
	dst = enc.AppendU(dst, uint64(len(m.speeds)))
	for _, s := range m.speeds {
		dst = enc.AppendU(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = enc.AppendF64s(dst, m.a)
	dst = enc.AppendF64s(dst, m.b)
	dst = enc.AppendF64s(dst, m.theta)
	dst = enc.AppendF64(dst, m.sigma)
	dst = enc.AppendU(dst, m.points)
	return enc.AppendU(dst, m.sinceSolve)
}

// RestoreState loads a state written by AppendState. Errors wrap
// ErrIncompatibleState (and enc.ErrVersion for another state version).
func (m *Model) RestoreState(b []byte) error {
	r := enc.Reader{B: b}
	r.Header(tagModel, modelVersion)
	n := int(r.U())
	if r.Err == nil && n != len(m.speeds) {
		return fmt.Errorf("%w: model %s state has %d speeds, the configuration %d", ErrIncompatibleState, m.name, n, len(m.speeds))
	}
	for i := 0; i < n && r.Err == nil; i++ {
		l := int(r.U())
		if r.Err != nil || l > len(r.B) {
			return fmt.Errorf("power: model %s state: %w", m.name, enc.ErrShort)
		}
		if s := string(r.B[:l]); s != m.speeds[i] {
			return fmt.Errorf("%w: model %s state has speed %s where the configuration has %s", ErrIncompatibleState, m.name, s, m.speeds[i])
		}
		r.B = r.B[l:]
	}
	a := r.F64s(nil, m.n*m.n)
	bb := r.F64s(nil, m.n)
	th := r.F64s(nil, m.n)
	sigma := r.F64()
	points := r.U()
	since := r.U()
	if err := r.Done(); err != nil {
		if errors.Is(err, enc.ErrVersion) {
			return fmt.Errorf("%w: model %s: %w", ErrIncompatibleState, m.name, err)
		}
		return fmt.Errorf("power: model %s state: %w", m.name, err)
	}
	if len(a) != m.n*m.n || len(bb) != m.n || len(th) != m.n {
		return fmt.Errorf("power: model %s state has the wrong dimensions", m.name)
	}
	copy(m.a, a)
	copy(m.b, bb)
	copy(m.theta, th)
	m.sigma, m.points, m.sinceSolve = sigma, points, since
	return nil
}
