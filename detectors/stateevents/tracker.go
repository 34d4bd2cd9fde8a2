package stateevents

import (
	"math"
	"strings"
	"time"

	"github.com/telekernel/telekernel/internal/cfgcheck"
)

// Defaults of Config.
const (
	// DefaultFlapCount transitions within DefaultFlapWindow make a series
	// flap: two full down/up cycles in five minutes. A planned change
	// (maintenance, a BGP clear, a reload) is one cycle; at the usual 10 s
	// to 60 s telemetry cadence a second cycle within minutes is a fault.
	DefaultFlapCount = 4
	// DefaultFlapWindow is the window of DefaultFlapCount.
	DefaultFlapWindow = 5 * time.Minute
	// DefaultFlapQuiet is how long a flapping series must go without a
	// transition for its alert to resolve: one flap window, so that a
	// series resolved as quiet would not flap again on its next change.
	DefaultFlapQuiet = 5 * time.Minute
	// DefaultEnableGrace is how long a thing enabled again after an
	// administrative shut may stay down before it alarms: a link needs a
	// few seconds to come up after a no-shut (auto-negotiation, an optic's
	// laser), a BFD session a few detection intervals; a minute covers them
	// with room, and one that is still down then will not come up alone.
	DefaultEnableGrace = time.Minute
	// DefaultShutGrace is how long an interface's link_down is held
	// (Tracker.Hold) for its admin-status to say the link was shut: the two
	// leaves of a shut reach the collector as separate updates, 1–2 s after
	// the command on IOS-XR, in either order; 5 s covers that with room and
	// is within one sample at the usual 10 s cadence.
	DefaultShutGrace = 5 * time.Second
	// MaxFlapCount bounds FlapCount (the ring of transition times in the
	// state).
	MaxFlapCount = 16
)

// Config configures flap detection. The zero value is the default.
type Config struct {
	// FlapCount is the number of transitions (a change between up and down
	// either way, or a carrier-transitions increment) within FlapWindow
	// that makes one flapping alert. Default DefaultFlapCount; 2 to
	// MaxFlapCount.
	FlapCount int `yaml:"flap_count"`
	// FlapWindow is the window of FlapCount. Default DefaultFlapWindow.
	FlapWindow time.Duration `yaml:"flap_window"`
	// FlapQuiet is how long a flapping series must go without a transition
	// for its alert to resolve. Default DefaultFlapQuiet.
	FlapQuiet time.Duration `yaml:"flap_quiet"`
	// EnableGrace is how long a thing that was up, was shut on purpose
	// (admin-status DOWN, BFD ADMIN_DOWN, component DISABLED) and was
	// enabled again may stay down before its down alert fires. Default
	// DefaultEnableGrace.
	EnableGrace time.Duration `yaml:"enable_grace"`
	// ShutGrace is how long the detect stage holds an interface's
	// link_down before it announces it, when the interface has an
	// admin-status (or a second oper-status) series that may yet say the
	// link was shut: a shut whose oper-status arrives first is then one
	// admin_down, not a critical link_down resolved a second later. The
	// detection keeps the oper-status sample's time. Default
	// DefaultShutGrace; 1ns announces at once.
	ShutGrace time.Duration `yaml:"shut_grace"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.FlapCount, DefaultFlapCount)
	cfgcheck.Default(&c.FlapWindow, DefaultFlapWindow)
	cfgcheck.Default(&c.FlapQuiet, DefaultFlapQuiet)
	cfgcheck.Default(&c.EnableGrace, DefaultEnableGrace)
	cfgcheck.Default(&c.ShutGrace, DefaultShutGrace)
	return c
}

// Validate reports the first bad field, by its yaml name.
func (c Config) Validate() error {
	c = c.WithDefaults()
	return cfgcheck.First(
		cfgcheck.Check(c.FlapCount < 2 || c.FlapCount > MaxFlapCount, "flap_count: %d is not in [2, %d]", c.FlapCount, MaxFlapCount),
		cfgcheck.Check(c.FlapWindow < 0, "flap_window: %v must be positive", c.FlapWindow),
		cfgcheck.Check(c.FlapQuiet < 0, "flap_quiet: %v must be positive", c.FlapQuiet),
		cfgcheck.Check(c.EnableGrace < 0, "enable_grace: %v must be positive", c.EnableGrace),
		cfgcheck.Check(c.ShutGrace < 0, "shut_grace: %v must be positive", c.ShutGrace),
	)
}

// Rule is the kind of alert a Tracker fires.
type Rule uint8

// Rules. Each is the detector name of its detections.
const (
	RuleNone          Rule = iota
	RuleLinkDown           // oper-status left UP while admin-status is UP
	RuleSessionDown        // a BGP or BFD session left its up state
	RuleComponentDown      // a component left ACTIVE
	RuleAdminDown          // down on purpose: informational
	RuleFlapping           // FlapCount transitions within FlapWindow
	RuleCarrierFlap        // carrier-transitions increased
	RuleNeighborsDown      // the established-neighbours count dropped
	RuleTargetDown         // the collector lost a target that was up
	RuleLLDPLost           // a port's LLDP neighbour count dropped
	numRules
)

var ruleNames = [numRules]string{"none", "link_down", "session_down", "component_down", "admin_down", "flapping", "carrier_flap", "neighbors_down", "target_down", "lldp_neighbor_lost"}

// String returns the rule's name: link_down, session_down, component_down,
// admin_down, flapping, carrier_flap, neighbors_down, target_down or
// lldp_neighbor_lost.
func (r Rule) String() string {
	if r < numRules {
		return ruleNames[r]
	}
	return "rule?"
}

// Severity returns the detection contract's severity of the rule's alert:
// info for admin_down (not an alarm), warning for a single carrier flap
// (the link came back) and for a lost LLDP neighbour (the link may still
// carry traffic), critical otherwise.
func (r Rule) Severity() string {
	switch r {
	case RuleAdminDown:
		return "info"
	case RuleCarrierFlap, RuleLLDPLost:
		return "warning"
	}
	return "critical"
}

// Transition is what an update did to a Tracker's alert.
type Transition uint8

// Transitions.
const (
	None     Transition = iota
	Fired               // an alert started
	Updated             // the firing alert changed its rule (and maybe severity)
	Resolved            // the alert ended
)

// Event is the verdict of one update.
type Event struct {
	Transition Transition
	// Rule is the alert's rule: the new one on Fired and Updated, the one
	// that ended on Resolved.
	Rule Rule
	// StartsAt is when the alert started (kept across Updated).
	StartsAt int64
	// Reason is set when the value was not understood; it was kept as the
	// raw state and changed no verdict.
	Reason Reason
}

// Tracker follows one series of a class. Times are Unix nanoseconds; a
// tracker whose latest sample time is 0 counts as having seen none. The zero value is not usable:
// make one with New. It is not safe for concurrent use.
type Tracker struct {
	class    Class
	status   Status
	wasUp    bool // seen up: only a departure from up is an alarm
	alert    Rule
	held     bool // the alert has started but is not announced yet (Hold)
	startsAt int64
	lastTS   int64 // the latest sample's time (0: none yet)
	changed  int64 // the latest transition's time
	// downAt and upAt bound the latest stretch the thing was down (or, for
	// carrier-transitions, may have been): upAt <= downAt while it lasts.
	downAt, upAt int64
	count        uint64 // carrier-transitions: the latest count
	// pre is a carrier-transitions count before a decrease, until the
	// next sample tells a reset from a glitch (0: none pending).
	pre          uint64
	level        float64 // neighbours, LLDP: the latest count
	base         float64 // neighbours, LLDP: the count before the drop
	flaps        [MaxFlapCount]int64
	nflaps, head uint8
	raw          string // the latest value as received
}

// New returns a Tracker of series of class c.
func New(c Class) *Tracker { return &Tracker{class: c} }

// Class returns the tracker's class.
func (t *Tracker) Class() Class { return t.class }

// Status returns the current verdict (StatusNone before any known value).
func (t *Tracker) Status() Status { return t.status }

// Raw returns the latest value as received (a status class's string).
func (t *Tracker) Raw() string { return t.raw }

// LastTS returns the time of the latest sample (0: none).
func (t *Tracker) LastTS() int64 { return t.lastTS }

// Changed returns the time of the latest transition (0: none).
func (t *Tracker) Changed() int64 { return t.changed }

// Alert returns the rule of the firing alert, RuleNone when none fires
// or it is held (Hold).
func (t *Tracker) Alert() Rule {
	if t.held {
		return RuleNone
	}
	return t.alert
}

// Hold holds the alert that just fired: it is not announced until Tick
// finds ShutGrace passed since it started or Release is called, and
// Explained in the meantime ends it unannounced. The detect stage holds an
// interface's link_down while its admin-status may yet say the link was
// shut. A caller that feeds a held tracker a new value first releases the
// alert, or ends it with Explained when the value says admin down.
func (t *Tracker) Hold() {
	if t.alert != RuleNone {
		t.held = true
	}
}

// Held reports whether the alert is held (Hold).
func (t *Tracker) Held() bool { return t.held }

// Release announces a held alert: it returns its Fired event, with the
// time it started, or no event when none is held.
func (t *Tracker) Release() Event {
	if !t.held {
		return Event{}
	}
	t.held = false
	return Event{Transition: Fired, Rule: t.alert, StartsAt: t.startsAt}
}

// StartsAt returns when the firing alert started (meaningful while Alert
// is not RuleNone): a caller that ends the alert without a sample (the
// series is dropped) resolves it with this start.
func (t *Tracker) StartsAt() int64 { return t.startsAt }

// Count returns the latest carrier-transitions count.
func (t *Tracker) Count() uint64 { return t.count }

// Level returns the latest count of a neighbours or LLDP series and the
// count before its drop (equal while no alert fires).
func (t *Tracker) Level() (level, base float64) { return t.level, t.base }

// Stretch returns when the latest down stretch began and when it ended
// (upAt <= downAt while it lasts; both 0 before any).
func (t *Tracker) Stretch() (downAt, upAt int64) { return t.downAt, t.upAt }

// DownWithin reports whether the thing was (or, after a
// carrier-transitions increment, may have been) down at some time in
// (from, to]: a rate over that interval is not a measure of normal
// traffic. Only the latest down stretch is remembered.
func (t *Tracker) DownWithin(from, to int64) bool {
	if t.downAt == 0 || t.downAt > to {
		return false
	}
	return t.upAt <= t.downAt || t.upAt > from
}

// UpdateStatus feeds a sample of a status class at ts. adminDown tells, for
// an interface's oper-status, that its admin-status is down: the link is
// down on purpose, which neither alarms nor counts as a flap. An
// oper-status value that says so itself (IOS-XR's im-state-admin-down)
// is StatusAdminDown, handled like BFD's ADMIN_DOWN: admin_down, no
// link_down, no flap.
//
// A sample older than the latest one (a late record, or two sources of one
// series) changes nothing: the series' state is the latest sample's.
func (t *Tracker) UpdateStatus(cfg *Config, ts int64, value string, adminDown bool) Event {
	if ts < t.lastTS {
		return Event{}
	}
	if raw := clipRaw(value); t.raw != raw {
		t.raw = strings.Clone(raw) // only on a change: no allocation in steady state
	}
	st, reason := Parse(t.class, value)
	if reason != ReasonNone || st == t.status {
		t.lastTS = max(t.lastTS, ts)
		ev := t.Tick(cfg, ts, 0)
		ev.Reason = reason
		return ev
	}
	t.lastTS = ts
	prev := t.status
	t.status = st
	switch {
	case st == StatusUp && prev != StatusNone:
		t.upAt = ts
	case st != StatusUp && (prev == StatusUp || prev == StatusNone):
		t.downAt = ts
	}
	if prev == StatusNone {
		// The first known value: no transition, no alarm (a port that is
		// down from the start is not a link that went down, and the ports
		// shut when the stage starts are not news).
		t.wasUp = st == StatusUp
		return Event{}
	}
	t.changed = ts
	if st == StatusUp {
		t.wasUp = true
	}
	if (st == StatusUp || st == StatusDown) && (prev == StatusUp || prev == StatusDown) && !adminDown && t.flap(cfg, ts) {
		return t.flapping(ts)
	}
	switch st {
	case StatusUp:
		if t.alert != RuleNone && t.alert != RuleFlapping {
			return t.resolve()
		}
	case StatusAdminDown:
		if t.alert == RuleNone {
			return t.fire(ts, RuleAdminDown)
		}
		return t.update(RuleAdminDown)
	case StatusDown:
		switch {
		case t.alert == RuleAdminDown:
			return t.resolve() // back from admin down, not yet up
		case t.alert == RuleNone && t.wasUp && !adminDown:
			return t.fire(ts, t.downRule())
		}
	}
	return Event{}
}

// Explained tells an interface's oper-status tracker that its admin-status
// went down at ts: a link-down or flapping alert firing on it resolves (the
// link is down on purpose; the admin-status series carries the admin_down
// alert). It tells a port's LLDP tracker that the port's oper-status went
// down at ts: a lldp_neighbor_lost or flapping alert firing on it resolves
// (the lost neighbour is the link's symptom; the oper-status series carries
// the event), and the latest count becomes the normal one.
func (t *Tracker) Explained(ts int64) Event {
	t.lastTS = max(t.lastTS, ts)
	if t.held {
		// Never announced: nothing to resolve.
		t.held, t.alert = false, RuleNone
		return Event{}
	}
	if t.class == ClassLLDP {
		t.rebase()
		if t.alert == RuleLLDPLost || t.alert == RuleFlapping {
			return t.resolve()
		}
		return Event{}
	}
	if t.alert == RuleLinkDown || t.alert == RuleFlapping {
		return t.resolve()
	}
	return Event{}
}

// UpdateCounter feeds a carrier-transitions count at ts. An increment is a
// link flap (carrier_flap, resolved on the next sample without one); the
// interface may have been down since the previous sample and until one
// interval after this one (DownWithin). explained tells that the
// interface's oper-status already showed a change in that interval: the
// increment then fires nothing and counts toward no flapping (the
// oper-status series carries the event). A decrease is a counter reset: a
// new baseline, no event, unless the next sample is back at or above the
// count before it: the decrease was a glitch (an agent that read 0 once,
// a sample a little behind), and the increments count from that count.
// A sample older than the latest changes nothing.
func (t *Tracker) UpdateCounter(cfg *Config, ts int64, v uint64, explained bool) Event {
	prevTS, prev := t.lastTS, t.count
	if ts < prevTS {
		return Event{}
	}
	if t.pre != 0 && ts != prevTS {
		if v >= t.pre {
			prev = t.pre // a glitch: the count never went down
		}
		t.pre = 0
	}
	t.count = v
	if prevTS == 0 || v < prev || ts == prevTS {
		if prevTS != 0 && v < prev && ts != prevTS {
			t.pre = prev
		}
		t.lastTS = ts
		return Event{}
	}
	t.lastTS = ts
	if v == prev {
		if t.alert == RuleCarrierFlap {
			return t.resolve()
		}
		return t.Tick(cfg, ts, 0)
	}
	t.changed = ts
	t.downAt, t.upAt = prevTS+1, ts+(ts-prevTS)
	if explained {
		return Event{}
	}
	flapping := false
	for n := min(v-prev, MaxFlapCount); n > 0; n-- {
		flapping = t.flap(cfg, ts)
	}
	switch {
	case flapping:
		return t.flapping(ts)
	case t.alert == RuleNone:
		return t.fire(ts, RuleCarrierFlap)
	}
	return Event{}
}

// UpdateLevel feeds a count at ts: established neighbours, or a port's
// LLDP neighbours. A drop fires neighbors_down (lldp_neighbor_lost), which
// resolves when the count is back to where it was before the drop; a rise
// while no alert fires is the new normal. Each drop and each recovery is a
// transition: FlapCount of them within FlapWindow make the alert flapping,
// which resolves after FlapQuiet without one (or becomes the drop's alert
// if the count is still low). explained tells that a drop is the symptom
// of something that carries its own event (a port's LLDP neighbour lost
// while the port is or was just down): it fires nothing, counts toward no
// flapping, and the count becomes the new normal. A sample older than the
// latest changes nothing.
func (t *Tracker) UpdateLevel(cfg *Config, ts int64, v float64, explained bool) Event {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Event{Reason: ReasonUnknownValue}
	}
	if ts < t.lastTS {
		return Event{}
	}
	first := t.lastTS == 0
	t.lastTS, t.level = ts, v
	low := v < t.base
	switch {
	case first:
		t.base = v
		return Event{}
	case explained && low:
		t.rebase()
		if t.alert == t.downRule() {
			return t.resolve()
		}
		return Event{}
	case t.alert == RuleNone && !low:
		t.base = v
		return Event{}
	case low && t.downAt > t.upAt, !low && t.upAt >= t.downAt:
		// No change of side: still low, or back and rising.
		if !low {
			t.base = v
		}
		return t.Tick(cfg, ts, 0)
	}
	t.changed = ts
	if low {
		t.downAt = ts
	} else {
		t.upAt, t.base = ts, v
	}
	switch {
	case t.flap(cfg, ts):
		return t.flapping(ts)
	case t.alert == RuleFlapping:
		return Event{}
	case low:
		return t.fire(ts, t.downRule())
	}
	return t.resolve()
}

// Tick lets the verdict change at ts without a new value, for series sent
// only on change: the caller may call it with the time of any later sample
// of the same thing (an interface's counters) or device. A flapping alert
// resolves (or becomes the down alert) after FlapQuiet without a
// transition; a held alert (Hold) is announced once ShutGrace has passed
// since it started; a thing that was up and has stayed down without an
// alarm since it was enabled again after a shut fires its down alert once
// EnableGrace has passed. enabled is when that happened, for an
// interface's oper-status, whose admin-status is another series (0: it was
// not); other classes know it themselves (a BFD session's ADMIN_DOWN, a
// component's DISABLED), and so does an oper-status series whose values
// say admin down (IOS-XR's im-state-admin-down). It returns the transition, if any, and changes
// the tracker only then.
func (t *Tracker) Tick(cfg *Config, ts, enabled int64) Event {
	due := t.Due(cfg, enabled)
	switch {
	case due == 0 || ts < due:
		return Event{}
	case t.held:
		return t.Release()
	case t.alert != RuleFlapping:
		return t.fire(ts, t.downRule())
	}
	t.nflaps = 0
	if t.class.IsStatus() && t.status != StatusUp || t.class.IsLevel() && t.level < t.base {
		// Quiet, but down: the flapping alert becomes a down alert.
		return t.update(t.downRule())
	}
	return t.resolve()
}

// Due returns the earliest time at which Tick (with the same enabled) can
// change the verdict, 0 when only a new value can.
func (t *Tracker) Due(cfg *Config, enabled int64) int64 {
	switch {
	case t.held:
		return t.startsAt + int64(cfg.ShutGrace)
	case t.alert == RuleFlapping:
		return t.changed + int64(cfg.FlapQuiet)
	case t.alert != RuleNone || !t.wasUp || !t.class.IsStatus() || t.status != StatusDown:
		return 0
	case t.class != ClassOperStatus || t.downAt < t.changed:
		// Down without an alarm: it left its own admin-down state at
		// its latest transition (a down state always fires otherwise).
		// An oper-status series does so when its values carry the shut
		// (IOS-XR's im-state-admin-down): only a change from admin
		// down to down leaves its down stretch's start before its
		// latest transition.
		enabled = t.changed
	case enabled <= t.downAt:
		return 0 // not enabled again while down (still shut)
	}
	if enabled == 0 {
		return 0
	}
	return enabled + int64(cfg.EnableGrace)
}

// rebase makes a count's latest level the normal one, ending the stretch
// it was low for: after a drop that something else explains, the count
// coming back is no recovery, and one dropping again is a new drop.
func (t *Tracker) rebase() {
	t.base = t.level
	t.upAt = max(t.upAt, t.downAt)
}

// flap records a transition at ts and reports whether the series now has
// FlapCount transitions within FlapWindow.
func (t *Tracker) flap(cfg *Config, ts int64) bool {
	t.flaps[t.head] = ts
	t.head = (t.head + 1) % MaxFlapCount
	t.nflaps = min(t.nflaps+1, MaxFlapCount)
	n := 0
	for i := 0; i < int(t.nflaps); i++ {
		if ts-t.flaps[(int(t.head)-1-i+MaxFlapCount)%MaxFlapCount] < int64(cfg.FlapWindow) {
			n++
		}
	}
	return n >= cfg.FlapCount
}

// flapping makes the alert a flapping one (or keeps it so).
func (t *Tracker) flapping(ts int64) Event {
	switch t.alert {
	case RuleFlapping:
		return Event{}
	case RuleNone:
		return t.fire(ts, RuleFlapping)
	}
	return t.update(RuleFlapping)
}

func (t *Tracker) downRule() Rule {
	switch t.class {
	case ClassBGP, ClassBFD:
		return RuleSessionDown
	case ClassComponent:
		return RuleComponentDown
	case ClassNeighbors:
		return RuleNeighborsDown
	case ClassTarget:
		return RuleTargetDown
	case ClassLLDP:
		return RuleLLDPLost
	}
	return RuleLinkDown
}

func (t *Tracker) fire(ts int64, r Rule) Event {
	t.alert, t.startsAt = r, ts
	return Event{Transition: Fired, Rule: r, StartsAt: ts}
}

func (t *Tracker) update(r Rule) Event {
	if t.alert == r {
		return Event{}
	}
	t.alert = r
	return Event{Transition: Updated, Rule: r, StartsAt: t.startsAt}
}

func (t *Tracker) resolve() Event {
	ev := Event{Transition: Resolved, Rule: t.alert, StartsAt: t.startsAt}
	t.alert = RuleNone
	return ev
}
