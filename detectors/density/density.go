// Package density finds a series' excursions coming closer together than
// they ever have: error bursts on a link that come every few minutes where
// they came twice a day (an optic wearing out, a cable working loose), a
// job's spikes arriving out of turn. Each excursion on its own can be the
// series' normal, no farther off than the ones before it; what changed is
// how often they come.
//
// The detector is told, point by point, whether the point is off the
// series' baseline (an excursion; the caller decides how far off is off).
// An excursion's first point is an onset; a run of points off is one
// onset. The span of the last Onsets onsets is the number of points from
// the first of them to the last. After Warm onsets, the tightest such span
// seen is the series' record; an onset whose span is at most the record
// over Tighter fires, once: the onsets that follow, while their span stays
// under the record (an episode), neither fire nor set a record, so the
// same wear coming back after the part was replaced fires again. The
// record never fades: a series whose excursions come at random sets
// tighter records as time goes on (the tightest of more spans), so
// breaking it by Tighter times grows rarer the longer the series runs,
// and a series whose excursions came in a cluster before Warm onsets (an
// incident's run of onsets) needs a tighter one still. Only the points up
// to an onset decide it.
package density

import (
	"fmt"
	"unsafe"

	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Defaults of Config.
const (
	DefaultOnsets  = 4
	DefaultTighter = 4
	DefaultWarm    = 16
)

// MaxOnsets bounds Config.Onsets.
const MaxOnsets = 8

// Config configures a Detector. The zero value is the default.
type Config struct {
	// Onsets is how many excursion onsets a span covers (2 to MaxOnsets):
	// the last Onsets onsets must come Tighter times closer together than
	// any Onsets consecutive ones before. Default DefaultOnsets.
	Onsets int `yaml:"onsets"`
	// Tighter is how many times shorter than the record a span must be to
	// fire (at least 1). Default DefaultTighter.
	Tighter float64 `yaml:"tighter"`
	// Warm is how many onsets are seen before a span can fire (at least
	// Onsets): the record of the first ones is the series' spacing.
	// Default DefaultWarm.
	Warm int `yaml:"warm"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Onsets, DefaultOnsets)
	cfgcheck.Default(&c.Tighter, DefaultTighter)
	cfgcheck.Default(&c.Warm, max(DefaultWarm, c.Onsets))
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.Onsets < 2 || c.Onsets > MaxOnsets:
		return fmt.Errorf("onsets: %d must be in [2, %d]", c.Onsets, MaxOnsets)
	case !(c.Tighter >= 1) || c.Tighter > 1e6:
		return fmt.Errorf("tighter: %g must be in [1, 1e6]", c.Tighter)
	case c.Warm < c.Onsets || c.Warm > 1<<20:
		return fmt.Errorf("warm: %d must be in [onsets (%d), 2^20]", c.Warm, c.Onsets)
	}
	return nil
}

// Detector is the density detector of one series. It is not safe for
// concurrent use. It keeps 64 bytes: the points it counts are read modulo
// 2^32 (a span of more points than that, 1 361 years at 10 s, would wrap),
// and the onsets only up to Warm.
type Detector struct {
	n       uint64            // points seen
	tighter float64           // Config.Tighter
	last    [MaxOnsets]uint32 // n mod 2^32 at the latest onsets, a ring
	seen    uint32            // onsets seen, up to warm
	record  uint32            // the tightest span (0: none yet)
	warm    uint32            // Config.Warm
	k       uint8             // Config.Onsets
	next    uint8             // the ring's slot for the next onset: the oldest of the last k
	off     bool              // the latest point was off the baseline
	episode bool              // a span fired and the onsets have not spread out to the record since
}

// New returns a detector with cfg's defaults applied.
func New(cfg Config) (*Detector, error) {
	d := &Detector{}
	return d, Init(d, cfg)
}

// Init resets d to a fresh detector of cfg (with its defaults), so a
// caller can embed one without a separate allocation.
func Init(d *Detector, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.WithDefaults()
	*d = Detector{tighter: cfg.Tighter, warm: uint32(cfg.Warm), k: uint8(cfg.Onsets)}
	return nil
}

// Update takes the next point: off tells whether it is off the series'
// baseline. It reports whether the point fires: an onset, after Warm of
// them, whose span is at most the record over Tighter, outside an episode.
func (d *Detector) Update(off bool) bool {
	d.n++
	onset := off && !d.off
	d.off = off
	return onset && d.onset()
}

// onset is Update's onset, apart so that Update, on every point of an
// ensemble, is inlined.
func (d *Detector) onset() bool {
	d.last[d.next] = uint32(d.n)
	if d.next++; d.next == d.k {
		d.next = 0
	}
	d.seen = min(d.seen+1, d.warm)
	if d.seen < uint32(d.k) {
		return false
	}
	span := uint32(d.Span())
	if d.episode {
		// The excursions that fired are still coming close together: one
		// alert for them, and their spacing is no record. The episode
		// ends when the last k onsets span the record again.
		d.episode = span < d.record
		return false
	}
	fire := d.seen >= d.warm && d.record > 0 && float64(span)*d.tighter <= float64(d.record)
	switch {
	case fire:
		d.episode = true
	case d.record == 0 || span < d.record:
		d.record = span
	}
	return fire
}

// Record returns the tightest span of Onsets consecutive onsets seen
// outside episodes (0 before there was one).
func (d *Detector) Record() uint64 { return uint64(d.record) }

// Span returns the span of the last Onsets onsets (0 before there were
// that many): after an onset that fired, the span that fired. The slot
// the next onset goes to holds the oldest of them, and the points are
// read modulo 2^32.
func (d *Detector) Span() uint64 {
	if d.seen < uint32(d.k) {
		return 0
	}
	latest := d.last[(int(d.next)+int(d.k)-1)%int(d.k)]
	return uint64(latest - d.last[d.next])
}

// Onsets returns how many onsets a span covers (Config.Onsets).
func (d *Detector) Onsets() int { return int(d.k) }

// StateBytes returns the bytes of state the detector keeps: its
// configuration, counts, ring and record.
func (d *Detector) StateBytes() int { return int(unsafe.Sizeof(*d)) }
