// Package hst is a streaming forest detector: Half-Space Trees (Tan, Ting
// and Liu, 2011) over a shingle of the last few normalised values, so it
// sees shapes (a spike, a flat stretch where the series usually moves, a
// broken rhythm), not single values.
//
// A Forest holds the random tree structure, which depends only on the
// configuration and seed: it is immutable and shared by every series. A
// Detector holds one series' state: two mass profiles per tree node (the
// reference window and the window being filled), the shingle and the
// normalisation. Every Window points the filled window becomes the
// reference. A point is scored against the reference window, which holds
// only earlier points, before it is counted (no look-ahead).
//
// Values are normalised by an exponentially weighted mean and standard
// deviation and squashed into (0, 1) with z/(|z|+3), so the trees' fixed
// unit work space covers any range.
package hst

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/telekernel/telekernel/detectors/internal/enc"
	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Defaults of Config.
const (
	DefaultTrees   = 16
	DefaultHeight  = 8
	DefaultWindow  = 256
	DefaultShingle = 2
	DefaultAlpha   = 0.005
	DefaultSeed    = 1
	// MaxNodes bounds trees × nodes per tree.
	MaxNodes = 1 << 20
)

// Config configures a Forest.
type Config struct {
	// Trees is the number of trees. Default DefaultTrees.
	Trees int `yaml:"trees"`
	// Height is the depth of every tree. Default DefaultHeight.
	Height int `yaml:"height"`
	// Window is the number of points in a mass window. Default
	// DefaultWindow; at most 65535.
	Window int `yaml:"window"`
	// Shingle is the number of consecutive values in a point. Default
	// DefaultShingle; at most 16.
	Shingle int `yaml:"shingle"`
	// Alpha smooths the normalisation's mean and variance. Default
	// DefaultAlpha.
	Alpha float64 `yaml:"alpha"`
	// Seed seeds the tree structure. Default DefaultSeed.
	Seed uint64 `yaml:"seed"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Trees, DefaultTrees)
	cfgcheck.Default(&c.Height, DefaultHeight)
	cfgcheck.Default(&c.Window, DefaultWindow)
	cfgcheck.Default(&c.Shingle, DefaultShingle)
	cfgcheck.Default(&c.Alpha, DefaultAlpha)
	cfgcheck.Default(&c.Seed, DefaultSeed)
	return c
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Trees < 1:
		return fmt.Errorf("trees: %d must be at least 1", c.Trees)
	case c.Height < 1 || c.Height > 20:
		return fmt.Errorf("height: %d must be between 1 and 20", c.Height)
	case c.Trees*(1<<(c.Height+1)) > MaxNodes:
		return fmt.Errorf("trees × 2^(height+1) = %d nodes exceeds %d", c.Trees*(1<<(c.Height+1)), MaxNodes)
	case c.Window < 2 || c.Window > math.MaxUint16:
		return fmt.Errorf("window: %d must be between 2 and 65535", c.Window)
	case c.Shingle < 1 || c.Shingle > 16:
		return fmt.Errorf("shingle: %d must be between 1 and 16", c.Shingle)
	case !(c.Alpha > 0 && c.Alpha < 1):
		return fmt.Errorf("alpha: %v must be in (0, 1)", c.Alpha)
	}
	return nil
}

// Forest is the shared, immutable tree structure. It is safe for
// concurrent use.
type Forest struct {
	cfg   Config
	nodes int       // nodes per tree: 2^(height+1) − 1
	dim   []uint8   // split dimension per internal node, trees × internal
	split []float32 // split value per internal node
	limit uint16    // a node with fewer reference points ends the descent
}

// NewForest builds the forest for cfg after WithDefaults and Validate.
func NewForest(cfg Config) (*Forest, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("hst: %w", err)
	}
	internal := 1<<cfg.Height - 1
	f := &Forest{cfg: cfg, nodes: 1<<(cfg.Height+1) - 1,
		dim: make([]uint8, cfg.Trees*internal), split: make([]float32, cfg.Trees*internal),
		limit: uint16(max(1, cfg.Window/10))}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x4853545f74726565))
	lo, hi := make([]float64, cfg.Shingle), make([]float64, cfg.Shingle)
	for t := 0; t < cfg.Trees; t++ {
		// Each dimension gets a random work range that covers [0, 1].
		for q := range lo {
			s := rng.Float64()
			r := 2 * math.Max(s, 1-s)
			lo[q], hi[q] = s-r, s+r
		}
		f.build(rng, t*internal, 0, 0, lo, hi)
	}
	return f, nil
}

func (f *Forest) build(rng *rand.Rand, base, node, depth int, lo, hi []float64) {
	if depth == f.cfg.Height {
		return
	}
	q := rng.IntN(len(lo))
	mid := (lo[q] + hi[q]) / 2
	f.dim[base+node], f.split[base+node] = uint8(q), float32(mid)
	h := hi[q]
	hi[q] = mid
	f.build(rng, base, 2*node+1, depth+1, lo, hi)
	hi[q] = h
	l := lo[q]
	lo[q] = mid
	f.build(rng, base, 2*node+2, depth+1, lo, hi)
	lo[q] = l
}

// Config returns the forest's configuration with defaults applied.
func (f *Forest) Config() Config { return f.cfg }

// Score is the result of scoring one point.
type Score struct {
	// Raw is the anomaly score in [0, 1]: 1 − mass/max mass, near 1 in
	// regions the reference window never visited.
	Raw float64
	// Z is the normalised value (for explanations).
	Z        float64
	WarmedUp bool
}

// Detector is one series' forest state. It is not safe for concurrent use.
type Detector struct {
	f       *Forest
	ref     []uint16 // reference masses, trees × nodes
	cur     []uint16 // masses of the window being filled
	count   int      // points in cur
	windows uint32   // completed windows
	sh      [16]float64
	shN     int // values in the shingle (up to Shingle)
	mean    float64
	vari    float64
	n       uint64
}

// NewDetector returns a fresh per-series state.
func (f *Forest) NewDetector() *Detector {
	return &Detector{f: f, ref: make([]uint16, f.cfg.Trees*f.nodes), cur: make([]uint16, f.cfg.Trees*f.nodes)}
}

// squash maps a z-score into (0, 1).
func squash(z float64) float64 { return 0.5 + 0.5*z/(math.Abs(z)+3) }

// Update scores the shingle ending with x against the reference window,
// then counts it into the current window. NaN and infinite values are
// ignored and score zero.
func (d *Detector) Update(x float64) Score {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Score{}
	}
	cfg := &d.f.cfg
	// Normalise against the state before x.
	z := 0.0
	if d.n > 1 {
		sd := math.Max(math.Sqrt(d.vari), 1e-9*math.Max(1, math.Abs(d.mean)))
		z = (x - d.mean) / sd
	}
	d.n++
	a := math.Max(cfg.Alpha, 1/float64(d.n))
	diff := x - d.mean
	inc := a * diff
	d.mean += inc
	d.vari = (1 - a) * (d.vari + diff*inc)

	k := cfg.Shingle
	copy(d.sh[:k-1], d.sh[1:k])
	d.sh[k-1] = squash(z)
	if d.shN < k {
		d.shN++
		return Score{Z: z}
	}
	s := Score{Z: z, WarmedUp: d.windows > 0}
	internal := 1<<cfg.Height - 1
	total := 0.0
	for t := 0; t < cfg.Trees; t++ {
		base := t * d.f.nodes
		sbase := t * internal
		node, depth := 0, 0
		scored := false
		for {
			d.cur[base+node]++
			if !scored && (d.ref[base+node] < d.f.limit || depth == cfg.Height) {
				total += float64(d.ref[base+node]) * float64(uint32(1)<<depth)
				scored = true
			}
			if depth == cfg.Height {
				break
			}
			if d.sh[d.f.dim[sbase+node]] < float64(d.f.split[sbase+node]) {
				node = 2*node + 1
			} else {
				node = 2*node + 2
			}
			depth++
		}
	}
	if s.WarmedUp {
		// A point in a dense region keeps about Window·2^depth/2^depth
		// mass at every level; normalise by the mass of a point that
		// reaches a leaf as dense as the root.
		s.Raw = math.Max(0, 1-total/(float64(cfg.Trees)*float64(cfg.Window)*float64(uint32(1)<<cfg.Height)/4))
		s.Raw = math.Min(1, s.Raw)
	}
	d.count++
	if d.count == cfg.Window {
		d.ref, d.cur = d.cur, d.ref
		clear(d.cur)
		d.count = 0
		d.windows++
	}
	return s
}

// StateBytes returns the bytes of state kept per series (the masses, the
// shingle and the normalisation; the forest is shared).
func (d *Detector) StateBytes() int { return 2*len(d.ref) + 2*len(d.cur) + 8*d.f.cfg.Shingle + 48 }

const stateVersion = 1

// MarshalBinary encodes the state (version 1).
func (d *Detector) MarshalBinary() ([]byte, error) { return d.AppendBinary(nil) }

// AppendBinary appends the encoded state to dst. Mass profiles are written
// as uvarints, which keeps sparse profiles small.
func (d *Detector) AppendBinary(dst []byte) ([]byte, error) {
	dst = enc.AppendHeader(dst, enc.TagHST, stateVersion)
	dst = enc.AppendU(dst, uint64(len(d.ref)))
	for _, m := range d.ref {
		dst = enc.AppendU(dst, uint64(m))
	}
	for _, m := range d.cur {
		dst = enc.AppendU(dst, uint64(m))
	}
	dst = enc.AppendU(dst, uint64(d.count))
	dst = enc.AppendU(dst, uint64(d.windows))
	dst = enc.AppendU(dst, uint64(d.shN))
	for _, v := range d.sh[:d.f.cfg.Shingle] {
		dst = enc.AppendF64(dst, v)
	}
	dst = enc.AppendF64(dst, d.mean)
	dst = enc.AppendF64(dst, d.vari)
	return enc.AppendU(dst, d.n), nil
}

// UnmarshalBinary restores a state written by a detector of a forest with
// the same configuration.
func (d *Detector) UnmarshalBinary(b []byte) error {
	r := enc.Reader{B: b}
	r.Header(enc.TagHST, stateVersion)
	if n := r.U(); r.Err == nil && n != uint64(len(d.ref)) {
		return fmt.Errorf("hst: state has %d nodes, the forest %d", n, len(d.ref))
	}
	ref, cur := make([]uint16, len(d.ref)), make([]uint16, len(d.cur))
	for i := range ref {
		ref[i] = uint16(r.U())
	}
	for i := range cur {
		cur[i] = uint16(r.U())
	}
	count, windows, shN := r.U(), r.U(), r.U()
	var sh [16]float64
	for i := range d.f.cfg.Shingle {
		sh[i] = r.F64()
	}
	mean, vari, n := r.F64(), r.F64(), r.U()
	if err := r.Done(); err != nil {
		return fmt.Errorf("hst: %w", err)
	}
	if count >= uint64(d.f.cfg.Window) || shN > uint64(d.f.cfg.Shingle) {
		return fmt.Errorf("hst: state does not fit the forest's window or shingle")
	}
	d.ref, d.cur, d.count, d.windows, d.shN, d.sh = ref, cur, int(count), uint32(windows), int(shN), sh
	d.mean, d.vari, d.n = mean, vari, n
	return nil
}
