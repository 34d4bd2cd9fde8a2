package rate

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/telekernel/telekernel/internal/binenc"
	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Defaults of QuietConfig.
const (
	// DefaultQuietAlpha is the largest chance, for a counter whose
	// intervals move independently at its learned busy share, of the run
	// that fires: busy^run <= alpha.
	DefaultQuietAlpha = 1e-8
	// DefaultQuietMinRun is the shortest run that fires, on a counter that
	// has never moved.
	DefaultQuietMinRun = 3
	// DefaultQuietMaxBusy is the busiest counter the rule watches: above
	// it a counter is not quiet, and the ensemble alone judges it.
	DefaultQuietMaxBusy = 0.2
	// DefaultQuietWarmup is how many intervals a counter shows before the
	// rule may fire.
	DefaultQuietWarmup = 100
	// DefaultQuietMemory is the time constant, in intervals, of the busy
	// share (an exponentially weighted count).
	DefaultQuietMemory = 1000
	// DefaultQuietClear is how many intervals in a row without an increase
	// resolve a firing rule.
	DefaultQuietClear = 6
)

// QuietConfig configures Quiet. The zero value means every default.
type QuietConfig struct {
	Alpha   float64 `yaml:"alpha"`    // default DefaultQuietAlpha
	MinRun  int     `yaml:"min_run"`  // default DefaultQuietMinRun
	MaxBusy float64 `yaml:"max_busy"` // default DefaultQuietMaxBusy
	Warmup  int     `yaml:"warmup"`   // default DefaultQuietWarmup
	Memory  int     `yaml:"memory"`   // default DefaultQuietMemory
	Clear   int     `yaml:"clear"`    // default DefaultQuietClear
}

// WithDefaults returns c with zero fields set to their defaults.
func (c QuietConfig) WithDefaults() QuietConfig {
	cfgcheck.Default(&c.Alpha, DefaultQuietAlpha)
	cfgcheck.Default(&c.MinRun, DefaultQuietMinRun)
	cfgcheck.Default(&c.MaxBusy, DefaultQuietMaxBusy)
	cfgcheck.Default(&c.Warmup, DefaultQuietWarmup)
	cfgcheck.Default(&c.Memory, DefaultQuietMemory)
	cfgcheck.Default(&c.Clear, DefaultQuietClear)
	return c
}

// Validate reports the first bad field of c (after WithDefaults).
func (c QuietConfig) Validate() error {
	return cfgcheck.First(
		cfgcheck.Fraction("alpha", c.Alpha),
		cfgcheck.AtLeast("min_run", c.MinRun, 1),
		cfgcheck.Fraction("max_busy", c.MaxBusy),
		cfgcheck.NonNegative("warmup", c.Warmup),
		cfgcheck.AtLeast("memory", c.Memory, 1),
		cfgcheck.AtLeast("clear", c.Clear, 1),
	)
}

// Run returns the run of moving intervals in a row that fires on a counter
// whose busy share is busy: the shortest run with busy^run <= Alpha, at
// least MinRun.
func (c QuietConfig) Run(busy float64) int {
	if busy <= 0 {
		return c.MinRun
	}
	return max(c.MinRun, int(math.Ceil(math.Log(c.Alpha)/math.Log(busy))))
}

// IsQuietCounter reports whether metric is a counter that is still on a
// healthy port, so that it moving on every interval is itself a symptom:
// an interface's error counters (in-errors, out-errors, in-fcs-errors, a
// vendor's crc-errors). Discards and drops are not: a congested port
// drops on every interval of its busy hour (on bigdama18 every run the
// rule found on out-discards was the congestion of a BGP clear's reroute).
func IsQuietCounter(metric string) bool {
	return strings.HasPrefix(metric, "/interfaces/") && IsErrorLeaf(metric)
}

// IsErrorLeaf reports whether the last element of metric names errors
// (in-errors, crc-errors, in-error-packets): on an interface's series, a
// counter that IsQuietCounter would follow whatever the model's paths.
func IsErrorLeaf(metric string) bool {
	return strings.Contains(metric[strings.LastIndexByte(metric, '/')+1:], "error")
}

// QuietEvent is what Quiet.Update saw.
type QuietEvent uint8

// Events of Quiet.Update.
const (
	QuietNone     QuietEvent = iota
	QuietFired               // the counter moved on Run intervals in a row
	QuietResolved            // Clear intervals in a row without an increase
)

// Quiet watches a counter that usually stays still (an interface's error
// counter): it learns the share of intervals on which the
// counter moves (its busy share), and fires when the counter moves on so
// many intervals in a row that its own history makes the run improbable
// (busy^run <= Alpha). It resolves after Clear intervals in a row without
// an increase. A counter busier than MaxBusy is not quiet and never fires.
// While it fires the busy share is held, so a long fault does not become
// normal. Memory: 48 B. The zero value is not usable: use NewQuiet. It is
// not safe for concurrent use.
type Quiet struct {
	cfg    *QuietConfig // shared by the rules of one NewQuiet (see Fresh)
	n, k   float64      // exponentially weighted intervals, and those that moved
	k0     float64      // k before the current run (decayed alike)
	points uint32       // intervals seen, saturating
	run    uint32       // intervals in a row that moved (firing: that did not)
	firing bool
}

// NewQuiet returns a rule with cfg's defaults applied; it fails on an
// invalid cfg.
func NewQuiet(cfg QuietConfig) (*Quiet, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Quiet{cfg: &cfg}, nil
}

// Fresh returns a rule in its initial state with q's configuration
// (shared, not copied): one NewQuiet serves every series.
func (q *Quiet) Fresh() Quiet { return Quiet{cfg: q.cfg} }

// Busy returns the learned share of moving intervals that the current run
// is judged against (during a run or an alert, the share before the run
// began), with one still and one moving interval of prior weight as a
// young series' margin.
func (q *Quiet) Busy() float64 {
	if q.run > 0 || q.firing {
		return (q.k0 + 1) / (q.n + 2)
	}
	return (q.k + 1) / (q.n + 2)
}

// Config returns the rule's configuration, defaults applied.
func (q *Quiet) Config() QuietConfig { return *q.cfg }

// Firing reports whether the rule fires.
func (q *Quiet) Firing() bool { return q.firing }

// Run returns the current run: moving intervals in a row, or, while
// firing, still intervals in a row.
func (q *Quiet) Run() int { return int(q.run) }

// Update feeds the counter's increase over one interval (a rate or a
// count: only whether it is positive matters) and returns what changed.
func (q *Quiet) Update(increase float64) QuietEvent {
	moved := increase > 0
	if q.firing {
		if moved {
			q.run = 0
			return QuietNone
		}
		q.run++
		if int(q.run) >= q.cfg.Clear {
			q.firing, q.run = false, 0
			return QuietResolved
		}
		return QuietNone
	}
	w := 1 - 1/float64(q.cfg.Memory)
	q.n = q.n*w + 1
	q.k *= w
	q.k0 *= w
	if q.points < math.MaxUint32 {
		q.points++
	}
	if !moved {
		q.run = 0
		return QuietNone
	}
	if q.run == 0 {
		q.k0 = q.k
	}
	q.k++
	q.run++
	busy := (q.k0 + 1) / (q.n + 2)
	if int(q.points) > q.cfg.Warmup && busy <= q.cfg.MaxBusy && int(q.run) >= q.cfg.Run(busy) {
		q.firing, q.run = true, 0
		return QuietFired
	}
	return QuietNone
}

// The tag and version of Quiet's binary record.
const (
	quietTag     = 0x71
	quietVersion = 1
)

// AppendBinary appends q's state: tag, version, n, k and k0 (f64), points
// and run (uvarint), firing (byte). The configuration is not stored.
func (q *Quiet) AppendBinary(dst []byte) ([]byte, error) {
	dst = binenc.AppendHeader(dst, quietTag, quietVersion)
	dst = binenc.AppendF64(dst, q.n)
	dst = binenc.AppendF64(dst, q.k)
	dst = binenc.AppendF64(dst, q.k0)
	dst = binenc.AppendU(dst, uint64(q.points))
	dst = binenc.AppendU(dst, uint64(q.run))
	return binenc.AppendBool(dst, q.firing), nil
}

// errQuietRecord marks a record Decode cannot read.
var errQuietRecord = errors.New("cannot decode quiet counter state")

// Decode restores q's state (not its configuration) from the front of b,
// a record of AppendBinary, and returns the rest of b.
func (q *Quiet) Decode(b []byte) ([]byte, error) {
	r := binenc.Reader{B: b}
	r.Header(quietTag, quietVersion)
	n, k, k0 := r.F64(), r.F64(), r.F64()
	points, run := r.U(), r.U()
	firing := r.Bool()
	if r.Err != nil {
		return nil, fmt.Errorf("%w: %v", errQuietRecord, r.Err)
	}
	if !(n >= 0 && k >= 0 && k <= n && k0 >= 0 && k0 <= k) || points > math.MaxUint32 || run > math.MaxUint32 {
		return nil, fmt.Errorf("%w: values out of range", errQuietRecord)
	}
	q.n, q.k, q.k0, q.points, q.run, q.firing = n, k, k0, uint32(points), uint32(run), firing
	return r.B, nil
}
