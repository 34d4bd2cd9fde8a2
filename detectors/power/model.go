package power

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Coefficient is one fitted coefficient of a Model.
type Coefficient struct {
	Name  string  // "base", "port/SPEED_100GB", "dynamic/SPEED_100GB", "optic/SPEED_100GB"
	Value float64 // W (dynamic: W at full utilisation)
	Prior float64
	Std   float64 // posterior standard deviation
}

// Model is the power model of one device model: exponentially weighted
// ridge regression of PSU input power on the features of Features, shrunk
// towards the priors. Update costs O(n²) for n coefficients; every
// solveEvery updates the n×n normal equations are solved by Cholesky.
type Model struct {
	name   string
	speeds []string
	idx    map[string]int // speed → position in speeds
	n      int

	prior []float64 // prior mean
	prec  []float64 // prior precision, 1/W²
	a     []float64 // Σ λ^k x xᵀ, n×n row-major
	b     []float64 // Σ λ^k x y
	theta []float64
	sigma float64 // residual standard deviation estimate, W
	// points is the number of measurements fitted; sinceSolve those since
	// the last solve.
	points, sinceSolve uint64
	lambda             float64
	solveEvery         uint64

	m   *mat.SymDense // scratch
	rhs *mat.VecDense
	sol *mat.VecDense
	chl mat.Cholesky
}

// ModelConfig configures one Model: the device model's name and priors,
// and the fit's memory and solve cadence (Config.Memory and
// Config.SolveEvery).
type ModelConfig struct {
	Name       string
	Priors     Priors // default DefaultPriors()
	Memory     int    // default DefaultMemory; at least 10
	SolveEvery int    // default DefaultSolveEvery; at least 1
}

// WithDefaults returns c with zero fields set to their defaults.
func (c ModelConfig) WithDefaults() ModelConfig {
	if c.Priors.Port == nil {
		c.Priors = DefaultPriors()
	}
	c.Priors = c.Priors.withDefaults()
	cfgcheck.Default(&c.Memory, DefaultMemory)
	cfgcheck.Default(&c.SolveEvery, DefaultSolveEvery)
	return c
}

// Validate reports the first bad field.
func (c ModelConfig) Validate() error {
	if err := c.Priors.validate(); err != nil {
		return fmt.Errorf("priors.%w", err)
	}
	return cfgcheck.First(
		cfgcheck.Check(c.Memory < 10, "memory: %d is below 10", c.Memory),
		cfgcheck.Check(c.SolveEvery < 1, "solve_every: %d is below 1", c.SolveEvery),
	)
}

// NewModel returns a model of cfg (with its defaults applied) at its
// priors, or the first bad field.
func NewModel(cfg ModelConfig) (*Model, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("power model %q: %w", cfg.Name, err)
	}
	p := cfg.Priors
	m := &Model{name: cfg.Name, speeds: p.speeds(), idx: map[string]int{}, lambda: 1 - 1/float64(cfg.Memory), solveEvery: uint64(cfg.SolveEvery)}
	m.n = 1 + 3*len(m.speeds)
	m.prior = make([]float64, m.n)
	m.prec = make([]float64, m.n)
	set := func(i int, v float64) {
		m.prior[i] = v
		sd := math.Max(p.RelStd*v, 1)
		m.prec[i] = 1 / (sd * sd)
	}
	set(0, p.Base)
	for i, s := range m.speeds {
		m.idx[s] = i
		set(1+3*i, p.Port[s])
		set(2+3*i, p.Dynamic[s])
		set(3+3*i, p.Optic[s])
	}
	m.a = make([]float64, m.n*m.n)
	m.b = make([]float64, m.n)
	m.theta = make([]float64, m.n)
	m.reset()
	m.m = mat.NewSymDense(m.n, nil)
	m.rhs = mat.NewVecDense(m.n, nil)
	m.sol = mat.NewVecDense(m.n, nil)
	return m, nil
}

// Name returns the device model's name.
func (m *Model) Name() string { return m.name }

// Len returns the number of coefficients (the length of feature vectors).
func (m *Model) Len() int { return m.n }

// Points returns the number of measurements the model was fitted on.
func (m *Model) Points() uint64 { return m.points }

// Sigma returns the current estimate of the residual standard deviation
// (W).
func (m *Model) Sigma() float64 { return m.sigma }

// Port adds one port to the feature vector x (of length Len): its speed,
// whether it is administratively up, its utilisation in [0,1] and whether a
// transceiver is present. It reports false, and adds nothing, when the
// model does not know the speed.
func (m *Model) Port(x []float64, speed string, adminUp bool, util float64, optic bool) bool {
	i, ok := m.idx[speed]
	if !ok {
		return false
	}
	if adminUp {
		x[1+3*i]++
		x[2+3*i] += util
	}
	if optic {
		x[3+3*i]++
	}
	return true
}

// Base sets the constant feature of x.
func (m *Model) Base(x []float64) { x[0] = 1 }

// PortWatts returns the power the model attributes to one port.
func (m *Model) PortWatts(speed string, adminUp bool, util float64, optic bool) float64 {
	i, ok := m.idx[speed]
	if !ok {
		return 0
	}
	w := 0.0
	if adminUp {
		w += m.theta[1+3*i] + m.theta[2+3*i]*util
	}
	if optic {
		w += m.theta[3+3*i]
	}
	return w
}

// BaseWatts returns the fitted base (chassis) power.
func (m *Model) BaseWatts() float64 { return m.theta[0] }

// Predict returns the modelled power of feature vector x.
func (m *Model) Predict(x []float64) float64 {
	s := 0.0
	for i, v := range x {
		s += v * m.theta[i]
	}
	return s
}

// Update fits one measurement y (W) of feature vector x.
func (m *Model) Update(x []float64, y float64) {
	pred := m.Predict(x)
	if !finite(y) || !finite(pred) {
		return // one NaN or infinity fitted would be in every estimate for good
	}
	r := y - pred
	// Residual scale: exponentially weighted, after the first solves.
	if m.points > 2*m.solveEvery {
		m.sigma = math.Sqrt(0.999*m.sigma*m.sigma + 0.001*r*r)
	}
	l := m.lambda
	n := m.n
	for i := 0; i < n; i++ {
		xi := x[i]
		row := m.a[i*n : i*n+n]
		if xi == 0 {
			for j := range row {
				row[j] *= l
			}
		} else {
			for j, xj := range x {
				row[j] = l*row[j] + xi*xj
			}
		}
		m.b[i] = l*m.b[i] + xi*y
	}
	m.points++
	m.sinceSolve++
	if m.sinceSolve >= m.solveEvery || m.points < m.solveEvery {
		m.Solve()
	}
	if !m.finite() {
		m.reset() // a fit thrown beyond a float64 by its readings starts again
	}
}

// finite reports whether every number of the fit is finite.
func (m *Model) finite() bool {
	if !finite(m.sigma) {
		return false
	}
	for _, vs := range [][]float64{m.a, m.b, m.theta} {
		for _, v := range vs {
			if !finite(v) {
				return false
			}
		}
	}
	return true
}

// reset sets the fit to its priors, with no measurement: NewModel's, and
// Update's for a fit gone beyond a float64.
func (m *Model) reset() {
	clear(m.a)
	clear(m.b)
	copy(m.theta, m.prior)
	m.sigma, m.points, m.sinceSolve = 2, 0, 0
}

// Solve solves the normal equations now. Update calls it every solveEvery
// measurements.
func (m *Model) Solve() {
	m.sinceSolve = 0
	s2 := math.Max(m.sigma*m.sigma, 0.01)
	n := m.n
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := m.a[i*n+j] / s2
			if i == j {
				v += m.prec[i]
			}
			m.m.SetSym(i, j, v)
		}
		m.rhs.SetVec(i, m.b[i]/s2+m.prec[i]*m.prior[i])
	}
	if !m.chl.Factorize(m.m) {
		return // keep the last solution
	}
	if err := m.chl.SolveVecTo(m.sol, m.rhs); err != nil {
		return
	}
	for i := range m.theta {
		m.theta[i] = m.sol.AtVec(i)
	}
}

// Coefficients returns the fitted coefficients with their priors and
// posterior standard deviations.
func (m *Model) Coefficients() []Coefficient {
	m.Solve()
	var inv mat.SymDense
	ok := m.chl.InverseTo(&inv) == nil
	out := make([]Coefficient, m.n)
	for i := range out {
		c := Coefficient{Name: m.coefName(i), Value: m.theta[i], Prior: m.prior[i]}
		if ok {
			c.Std = math.Sqrt(math.Max(inv.At(i, i), 0))
		}
		out[i] = c
	}
	return out
}

func (m *Model) coefName(i int) string {
	if i == 0 {
		return "base"
	}
	s := m.speeds[(i-1)/3]
	return [...]string{"port", "dynamic", "optic"}[(i-1)%3] + "/" + s
}

// Coefficient returns the fitted value of the named coefficient.
func (m *Model) Coefficient(name string) (float64, error) {
	for i := 0; i < m.n; i++ {
		if m.coefName(i) == name {
			return m.theta[i], nil
		}
	}
	return 0, fmt.Errorf("power: model %s has no coefficient %q", m.name, name)
}
