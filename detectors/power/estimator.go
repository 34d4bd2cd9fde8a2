package power

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/telekernel/telekernel/detectors/alert"
	"github.com/telekernel/telekernel/detectors/rate"
	"github.com/telekernel/telekernel/detectors/robustz"
	"github.com/telekernel/telekernel/schemas"
)

// transceiverSuffix links a transceiver component to its interface:
// "name=Ethernet1-transceiver" belongs to "name=Ethernet1".
const transceiverSuffix = "-transceiver"

// Residual is a transition of a device's residual anomaly: measured power
// departing from the model (firing) or back (resolved).
type Residual struct {
	Device    string
	Firing    bool    // true: fired; false: resolved
	TS        int64   // window end, Unix ns
	StartsAt  int64   // when it fired, Unix ns
	Measured  float64 // mean measured W over the window
	Modelled  float64 // mean modelled W
	Relative  float64 // (measured−modelled)/modelled
	Z         float64 // robust z of Relative against the device's history
	Baseline  float64 // the usual relative residual (median)
	Threshold float64 // the band half-width, relative
}

type port struct {
	keys      string
	speed     string
	adminUp   bool
	hasAdmin  bool
	operUp    bool
	optic     bool
	hasOptic  bool
	lag       string
	in, out   rate.Counter
	inR, outR float64 // octets/s

	// The times of the samples the status and configuration above hold
	// (oper-status, admin-status, port-speed, aggregate-id, transceiver
	// present): an older one changes nothing (newer).
	operTS, adminTS, speedTS, lagTS, opticTS int64

	wW, wUtil float64 // window sums
	wN        int
}

func (p *port) util() float64 {
	bps := speedBps[p.speed]
	if bps == 0 || !p.operUp {
		return 0
	}
	return math.Min((p.inR+p.outR)*8/(2*float64(bps)), 1)
}

func (p *port) isAdminUp() bool {
	if p.hasAdmin {
		return p.adminUp
	}
	return p.operUp // no admin-status: an up link is administratively up
}

// psu holds a PSU's latest readings, each with its own timestamp (which
// orders them: an older one is a late sample) and the device's time when
// it was last received (which ages them: a device that stamps a value with
// its last change re-sends a steady reading with an old timestamp), and
// for each a reading that jumped from it, not yet confirmed (setReading).
type psu struct {
	v, i, p             float64
	vTS, iTS, pTS       int64
	vSeen, iSeen, pSeen int64
	vNext, iNext, pNext pending
}

// implied returns v, what a PSU's two readings received at a and b make a
// third (input-power ≈ voltage × current, within its power factor), or
// NaN when one of them has none.
func implied(a, b int64, v float64) float64 {
	if a == 0 || b == 0 {
		return math.NaN()
	}
	return v
}

// pending is a PSU reading that jumped from the one held (ok: there is
// one), taken only if the next reading confirms it.
type pending struct {
	v  float64
	ok bool
}

type device struct {
	name  string
	model *Model
	ports []*port
	psus  []*psu
	psuK  []string

	cur, last   int64 // ts of the open tick, of the last finished tick
	win, winEnd int64
	partTS      int64 // the time of the chassis part-no sample model holds: an older one changes nothing
	measSum     float64
	measN       int
	modSum      float64
	modN        int
	modOnMeas   float64 // modelled sum over the measured ticks
	energyMeas  float64 // Wh
	energyMod   float64 // Wh
	baseSum     float64
	history     []float64   // relative residuals of past windows
	residual    alert.State // the residual alert (Firing, StartsAt)
	x           []float64
	dirty       bool // checkpointed state changed
	// meas is the measurement the next is judged by (W; ok: there is
	// one): the last one taken, or one that stepped away and was followed
	// by another step; step is one that stepped away from it, not yet
	// confirmed (steady).
	meas, step pending
}

// Output is what an Estimator produced since the last Take.
type Output struct {
	// Rows are the power rows of the windows that closed, device by
	// device: the device row, the chassis row, port rows, saving rows.
	Rows      []schemas.PowerRow
	Residuals []Residual
	// Unwritable counts the windows that closed without rows: a sum or
	// an energy of theirs was not finite (finishTick, closeWindow).
	Unwritable int
	// Unmeasured counts the device ticks finished without a measurement,
	// by reason. A tick that brings no PSU value is not counted: a
	// device's PSUs may report less often than its ports.
	Unmeasured [UnmeasuredReasons]int
	// Dropped counts the samples whose value Observe dropped as
	// impossible, by reason.
	Dropped [DropReasons]int
}

// Drop is why a sample's value was not taken: an index of
// Output.Dropped.
type Drop int

const (
	// DropPSUReading: a PSU reading that is not a gauge, or is NaN,
	// negative or beyond maxReading (setReading).
	DropPSUReading Drop = iota
	// DropOverSpeed: a byte counter's rate beyond maxOverSpeed times
	// its port's speed (carries).
	DropOverSpeed
	// DropGarbled: a port speed or a transceiver presence that is none
	// (speedName).
	DropGarbled
	// DropReasons is the number of reasons.
	DropReasons
)

// String returns the reason's label value: psu_reading, over_speed or
// garbled.
func (r Drop) String() string {
	switch r {
	case DropPSUReading:
		return "psu_reading"
	case DropOverSpeed:
		return "over_speed"
	case DropGarbled:
		return "garbled"
	}
	return fmt.Sprintf("Drop(%d)", int(r))
}

// Unmeasured is why a device's tick was not measured: an index of
// Output.Unmeasured.
type Unmeasured int

const (
	// UnmeasuredWaiting: a PSU reading that jumped (setReading), or the
	// device's total that stepped (steady), waits for the next to
	// confirm it.
	UnmeasuredWaiting Unmeasured = iota
	// UnmeasuredStale: a PSU of the device has no reading (input-power,
	// or input-voltage and input-current) received within psu_max_age.
	UnmeasuredStale
	// UnmeasuredNone: the device has no PSU reading at all.
	UnmeasuredNone
	// UnmeasuredReasons is the number of reasons.
	UnmeasuredReasons

	// What measured returns otherwise, not counted: a measurement, or
	// none because the tick brought no PSU value.
	isMeasured Unmeasured = -1
	notNew     Unmeasured = -2
)

// String returns the reason's label value: waiting, stale or none.
func (u Unmeasured) String() string {
	switch u {
	case UnmeasuredWaiting:
		return "waiting"
	case UnmeasuredStale:
		return "stale"
	case UnmeasuredNone:
		return "none"
	}
	return fmt.Sprintf("Unmeasured(%d)", int(u))
}

// Estimator tracks the devices of one input partition: their port state
// and PSU measurements, the models by device model, and the windows.
type Estimator struct {
	cfg     Config
	models  map[string]*Model
	devices map[string]*device
	out     Output
	dirty   []string // devices whose state changed since TakeDirty
	// Unmodelled counts port-ticks whose speed no model knows.
	Unmodelled uint64
}

// New returns an estimator.
func New(cfg Config) (*Estimator, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("power: %w", err)
	}
	return &Estimator{cfg: cfg, models: map[string]*Model{}, devices: map[string]*device{}}, nil
}

// Config returns the configuration with defaults applied.
func (e *Estimator) Config() Config { return e.cfg }

// Model returns the model of a device model, creating it at its priors.
func (e *Estimator) Model(name string) *Model {
	m := e.models[name]
	if m == nil {
		p, ok := e.cfg.Models[name]
		if !ok {
			p = e.cfg.Priors
		}
		// e.cfg is valid (New), and so is every model of it.
		m, _ = NewModel(ModelConfig{Name: name, Priors: p, Memory: e.cfg.Memory, SolveEvery: e.cfg.SolveEvery})
		e.models[name] = m
	}
	return m
}

// Models returns the names of the models held.
func (e *Estimator) Models() []string {
	out := make([]string, 0, len(e.models))
	for k := range e.models {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// DeviceModel returns the model a device uses, or nil for an unknown
// device.
func (e *Estimator) DeviceModel(device string) *Model {
	if d := e.devices[device]; d != nil {
		return d.model
	}
	return nil
}

func (e *Estimator) device(name string) *device {
	d := e.devices[name]
	if d == nil {
		d = &device{name: strings.Clone(name), model: e.Model(DefaultModelName)}
		e.devices[d.name] = d
	}
	return d
}

func (d *device) port(keys string) *port {
	for _, p := range d.ports {
		if p.keys == keys {
			return p
		}
	}
	p := &port{keys: strings.Clone(keys)}
	d.ports = append(d.ports, p)
	slices.SortFunc(d.ports, func(a, b *port) int { return comparePorts(a.keys, b.keys) })
	return p
}

// comparePorts orders Ethernet2 before Ethernet10.
func comparePorts(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func (d *device) psu(keys string) *psu {
	for i, k := range d.psuK {
		if k == keys {
			return d.psus[i]
		}
	}
	d.psuK = append(d.psuK, strings.Clone(keys))
	p := &psu{}
	d.psus = append(d.psus, p)
	return p
}

// Observe feeds one sample. Samples of one device must come in time order
// (a device's series interleaved); a sample older than the device's open
// tick updates state but starts no tick, except a PSU reading, a port's
// status or configuration (oper-status, admin-status, port-speed,
// aggregate-id, transceiver present) or the chassis part-no older than the
// one held (a late sample, or one after the device's clock stepped back
// before StepBack), which changes nothing. A byte counter's rate beyond
// what its port can carry (maxOverSpeed) is not taken, nor a PSU reading
// that is not a gauge, nor a port speed or transceiver presence that is
// none (speedName), and a PSU reading that jumped waits for the next to
// confirm it (setReading); Output.Dropped counts the values not taken.
// Strings are not retained.
func (e *Estimator) Observe(ts int64, device, metric, keys string, kind schemas.Kind, u uint64, f float64, str string) {
	d := e.device(device)
	e.markDirty(d) // the live state moves with every sample
	if ts > d.cur {
		if d.cur != 0 && d.cur != d.last { // Flush may have finished it
			e.finishTick(d, d.cur)
		}
		d.cur = ts
	}
	switch metric {
	case schemas.MetricInOctets, schemas.MetricOutOctets:
		if kind != schemas.KindCounter {
			return
		}
		p := d.port(keys)
		c, r := &p.in, &p.inR
		if metric == schemas.MetricOutOctets {
			c, r = &p.out, &p.outR
		}
		if v, res := c.Update(ts, u); res == rate.OK {
			if p.carries(v) {
				*r = v
			} else {
				e.out.Dropped[DropOverSpeed]++
			}
		}
	case schemas.MetricOperStatus:
		if p := d.port(keys); newer(&p.operTS, ts) {
			p.operUp = str == "UP"
		}
	case schemas.MetricAdminStatus:
		if p := d.port(keys); newer(&p.adminTS, ts) {
			p.adminUp, p.hasAdmin = str == "UP", true
		}
	case schemas.MetricPortSpeed:
		if !speedName(str) {
			e.out.Dropped[DropGarbled]++
			return // garbled: the port keeps its last speed (see speedName)
		}
		if p := d.port(keys); newer(&p.speedTS, ts) && p.speed != str {
			p.speed = strings.Clone(str)
		}
	case schemas.MetricAggregateID:
		if p := d.port(keys); newer(&p.lagTS, ts) && p.lag != str {
			p.lag = strings.Clone(str)
		}
	case schemas.MetricOpticPresent:
		if str != "PRESENT" && str != "NOT_PRESENT" {
			e.out.Dropped[DropGarbled]++
			return // garbled: the port keeps its transceiver or none (see speedName)
		}
		if p := d.port(strings.TrimSuffix(keys, transceiverSuffix)); newer(&p.opticTS, ts) {
			p.optic, p.hasOptic = str == "PRESENT", true
		}
	case schemas.MetricPartNo:
		if keys == "name=Chassis" && str != "" && newer(&d.partTS, ts) && d.model.name != str {
			d.model = e.Model(strings.Clone(str))
		}
	case schemas.MetricPSUInVoltage, schemas.MetricPSUInCurrent, schemas.MetricPSUInPower:
		if kind != schemas.KindGauge {
			e.out.Dropped[DropPSUReading]++
			return // a reading of another kind has no f: it would be one of 0 W
		}
		if !reading(f) {
			e.out.Dropped[DropPSUReading]++ // setReading drops it
		}
		p := d.psu(keys)
		switch metric {
		case schemas.MetricPSUInVoltage:
			setReading(&p.v, &p.vTS, &p.vSeen, &p.vNext, f, ts, d.cur, implied(p.iSeen, p.pSeen, p.p/p.i))
		case schemas.MetricPSUInCurrent:
			setReading(&p.i, &p.iTS, &p.iSeen, &p.iNext, f, ts, d.cur, implied(p.vSeen, p.pSeen, p.p/p.v))
		default:
			setReading(&p.p, &p.pTS, &p.pSeen, &p.pNext, f, ts, d.cur, implied(p.vSeen, p.iSeen, p.v*p.i))
		}
	}
}

// speedName reports whether s is an OpenConfig port speed: SPEED_UNKNOWN,
// or SPEED_ and a number of MB or GB (SPEED_2500MB, SPEED_100GB), known to
// the model or not. Anything else (SPEED_?, a garbled byte) is no speed
// and changes nothing, as a transceiver presence other than PRESENT or
// NOT_PRESENT: taken as an unknown speed or no transceiver, one sample
// fitted the port's watts to the rest of the device, and moved port
// attributions on every device of the model by 10 to 80 % from then on.
func speedName(s string) bool {
	if s == "SPEED_UNKNOWN" {
		return true
	}
	n, ok := strings.CutPrefix(s, "SPEED_")
	if !ok || len(n) < 3 || (n[len(n)-2:] != "MB" && n[len(n)-2:] != "GB") {
		return false
	}
	for _, c := range n[:len(n)-2] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// maxOverSpeed bounds a byte counter's rate by its port's speed: a rate
// more than this many times the speed is no traffic (a counter that read
// 0 or 2^64-1 for one sample, then its count again: the whole count over
// one interval), and is not taken. The port keeps its last rate, as
// through a reset, rather than count as full for a tick or two and teach
// the shared model a load no port carried. The margin leaves room for
// samples stamped apart from when their counters were read.
const maxOverSpeed = 2

// carries reports whether r octets/s is a rate p may carry: at most
// maxOverSpeed times its speed, or any when its speed is not known.
func (p *port) carries(r float64) bool {
	bps := speedBps[p.speed]
	return bps == 0 || r*8 <= maxOverSpeed*float64(bps)
}

// newer reports whether a sample stamped ts is to replace the one held,
// stamped *at, and if so holds its stamp: a sample older (a late or
// re-ordered one, or a second source's, minutes late) changes nothing,
// one of the same stamp (a re-send) is taken again.
func newer(at *int64, ts int64) bool {
	if late(*at, ts) {
		return false
	}
	*at = ts
	return true
}

// late reports whether a sample stamped ts, after one stamped at, is a
// late one that changes nothing: older, by any amount. A device whose
// clock stepped back (or whose held stamp was far ahead) is taken back
// by StepBack, which moves the stamps held back to the step, once its
// stage confirmed it (stages/power): a sample merely older, even by 15
// minutes, is as likely a second source's, late while the device reports
// on, and taking it would measure the device at its readings of then.
func late(at, ts int64) bool { return ts < at }

// setReading keeps a PSU reading stamped ts and received at now (the
// device's open tick) unless it is no measurement (NaN, infinite, negative
// or beyond maxReading: one NaN fitted makes every coefficient of the
// device model NaN for good) or older than the one held (a late sample).
// A reading re-sent with the stamp held (a device that stamps values with
// their last change) is received again: it stays current.
//
// A reading more than maxJump times above or below the one held is a jump:
// it waits in next, and the device is not measured by it (measured),
// until the next reading of the same input tells a glitch (a garbled
// value, or one in other units, once: the next is back by the one held)
// from a real change (a PSU failing or taking the load, units that
// changed: the next is by the jump too), which it takes. Before the model
// has its thousand points nothing else kept one reading of 1e6 times the
// PSU's watts from moving every device of its model for good.
// An input's first reading has none held: it is judged against want, what
// the PSU's other two readings make it (implied; NaN: they do not), and
// otherwise taken, so a device that reports milli-units from the start is
// measured in them, as before. A reading from or to 0 is no jump: a PSU
// without load whose sensor reads 0 and a hundredth of an ampere by turns
// left its device unmeasured at every other tick, each reading from 0
// waiting for the next, back at 0; what such a reading does to its
// device's watts (a feed lost, a glitch of 0 or from it) is judged by
// steady.
func setReading(v *float64, at, seen *int64, next *pending, f float64, ts, now int64, want float64) {
	if !reading(f) || late(*at, ts) {
		return
	}
	ref, held := *v, *seen != 0
	if !held && finite(want) {
		ref, held = want, true
	}
	if held && f != 0 && ref != 0 && !near(f, ref) && !(next.ok && near(f, next.v)) {
		*next = pending{v: f, ok: true}
		return
	}
	*v, *at, *seen = f, ts, now
	*next = pending{}
}

// maxJump is how many times above or below the reading held a PSU reading
// may be and still be taken at once (setReading): load moving between
// PSUs or with traffic stays well within it, a reading in other units (a
// thousand times) or a garbled one is far beyond it. A reading from or to
// 0 (a feed lost or back, or noise at no load) is taken, its device's
// measurement judged by steady.
const maxJump = 10

// near reports whether PSU readings a and b are within maxJump times of
// each other.
func near(a, b float64) bool { return a <= maxJump*b && b <= maxJump*a }

// maxReading bounds a PSU reading (watts, volts or amperes; a thousand
// times more if a device reports milli-units): a value beyond it is no
// measurement, and fitted it would throw the model's coefficients far out.
const maxReading = 1e9

// reading reports whether f is a PSU reading setReading keeps: a number
// from 0 to maxReading.
func reading(f float64) bool { return f >= 0 && f <= maxReading }

// Flush finishes the open tick of every device and closes the windows that
// end at or before ts (device time). Call it when a partition is idle or at
// the end of a replay.
func (e *Estimator) Flush(ts int64) {
	for _, d := range e.devices {
		if d.cur != 0 && d.cur != d.last {
			e.finishTick(d, d.cur)
		}
		if d.winEnd != 0 && ts >= d.winEnd {
			e.closeWindow(d)
		}
	}
}

// measured returns the PSU input power at ts and isMeasured if there is
// a measurement, or why not: every PSU of the device has a reading
// (input-power, or input-voltage and input-current) received no longer
// than maxAge before ts, and at least one of them was received at ts.
// PSUs need not report at
// the same instant (gNMI notifications per PSU), nor stamp a reading when
// it was read (devices that stamp values with their last-change time
// re-send a steady one with that stamp): a reading ages from when it was
// last received, not from its stamp. A tick that brings no PSU value is
// not measured again, nor one while a reading it would use jumped and
// waits for the next to confirm it (setReading).
func (d *device) measured(ts, maxAge int64) (float64, Unmeasured) {
	if len(d.psus) == 0 {
		return 0, UnmeasuredNone
	}
	sum, fresh := 0.0, false
	oldest := ts - maxAge
	for _, p := range d.psus {
		// A reading that jumped is a glitch or a step: the next tells.
		switch {
		case p.pSeen >= oldest && p.pTS >= min(p.vTS, p.iTS):
			if p.pNext.ok {
				return 0, UnmeasuredWaiting
			}
			sum += p.p
			fresh = fresh || p.pSeen == ts
		case p.vSeen >= oldest && p.iSeen >= oldest:
			if p.vNext.ok || p.iNext.ok {
				return 0, UnmeasuredWaiting
			}
			sum += p.v * p.i
			fresh = fresh || p.vSeen == ts || p.iSeen == ts
		default:
			return 0, UnmeasuredStale
		}
	}
	if !fresh {
		return 0, notNew
	}
	return sum, isMeasured
}

// maxStep is how many times above or below the device's last measurement
// taken one may be and still be taken at once (steady): noise, and load
// moving with traffic or between PSUs, stay well within it; one PSU input
// of two read at half or twice its value moves it by a quarter or a half.
const maxStep = 1.25

// steady reports whether a measurement of y W is taken: it is within
// maxStep of the one it is judged by (meas), or of the one before it
// that stepped away (a step confirmed: a line card inserted, a PSU
// degrading or losing its feed, units that changed), or there is none.
// Otherwise it waits as a step, and the device is not measured at this
// tick. A PSU input reading
// within maxJump of the one held is taken at once (setReading): read at
// twice or a fifth of its value once, it measured its device a half or
// two fifths off at that tick. Before the model has its thousand points
// nothing else kept that out of the fit (whose residual scale it
// inflated, moving every device's port watts by up to 18 % for hours),
// and after it one minute of it in a window fired a residual alert. The
// measurement, not its residual, is compared: the model moves between
// ticks (by a thousand times at the first of a device in milli-units).
// A step followed by another, off it too, tells the load has moved away
// (switching between two levels, ramping): the step becomes what the next
// is judged by. Judged by the last one taken still, a load switching
// between 200 and 280 W after one of 120 W taken was never measured again.
func (d *device) steady(y float64) bool {
	step := func(a, b float64) bool { return a > maxStep*b || b > maxStep*a }
	switch {
	case !d.meas.ok || !step(y, d.meas.v):
	case d.step.ok && !step(y, d.step.v):
	default:
		if d.step.ok {
			d.meas = d.step
		}
		d.step = pending{v: y, ok: true}
		return false
	}
	d.meas, d.step = pending{v: y, ok: true}, pending{}
	return true
}

func (e *Estimator) finishTick(d *device, ts int64) {
	m := d.model
	if len(d.x) != m.Len() {
		d.x = make([]float64, m.Len())
	}
	x := d.x
	clear(x)
	m.Base(x)
	for _, p := range d.ports {
		if p.speed == "" {
			continue
		}
		if !m.Port(x, p.speed, p.isAdminUp(), p.util(), p.optic) {
			e.Unmodelled++
		}
	}
	mod := m.Predict(x)
	y, why := d.measured(ts, int64(e.cfg.PSUMaxAge))
	if why == isMeasured && !d.steady(y) {
		why = UnmeasuredWaiting
	}
	if why >= 0 {
		e.out.Unmeasured[why]++
	}
	ok := why == isMeasured
	if ok && !d.residual.Firing {
		// Keep gross outliers out of a fit that has converged.
		if m.points < 1000 || math.Abs(y-mod) < 8*m.sigma+0.02*mod {
			m.Update(x, y)
		}
	}
	// Windows are aligned to the epoch in device time.
	w := int64(e.cfg.Window)
	if d.winEnd != 0 && ts >= d.winEnd {
		e.closeWindow(d)
	}
	if d.winEnd == 0 {
		d.win = ts - ts%w
		d.winEnd = d.win + w
	}
	dt := 0.0
	if d.last != 0 {
		dt = math.Min(float64(ts-d.last), float64(w)) / 3.6e12 // hours
	}
	d.last = ts
	d.modSum += mod
	d.modN++
	d.baseSum += m.BaseWatts()
	d.energyMod += mod * dt
	if ok {
		d.measSum += y
		d.measN++
		d.modOnMeas += mod
		d.energyMeas += y * dt
	} else {
		d.energyMeas += mod * dt
	}
	for _, p := range d.ports {
		if p.speed == "" {
			continue
		}
		u := p.util()
		p.wW += m.PortWatts(p.speed, p.isAdminUp(), u, p.optic)
		p.wUtil += u
		p.wN++
	}
	if !d.sumsFinite() {
		// Its rows could not be written, nor its changelog record read
		// back (liveErr).
		e.dropWindow(d)
	}
}

// sumsFinite reports whether every sum of d's window is finite.
func (d *device) sumsFinite() bool {
	for _, v := range [...]float64{d.measSum, d.modSum, d.modOnMeas, d.energyMeas, d.energyMod, d.baseSum} {
		if !finite(v) {
			return false
		}
	}
	for _, p := range d.ports {
		if !finite(p.wW) || !finite(p.wUtil) {
			return false
		}
	}
	return true
}

func (e *Estimator) closeWindow(d *device) {
	m := d.model
	if d.modN == 0 {
		d.winEnd = 0
		return
	}
	hours := float64(d.winEnd-d.win) / 3.6e12
	rows := len(e.out.Rows)
	row := schemas.PowerRow{WindowStart: d.win, WindowEnd: d.winEnd, Device: d.name, Model: m.name,
		MeasuredW: math.NaN(), Utilisation: math.NaN(), ResidualZ: math.NaN(), FitPoints: m.points}
	dev := row
	dev.Row = schemas.PowerRowDevice
	dev.ModelledW = d.modSum / float64(d.modN)
	dev.Samples = uint32(d.measN)
	dev.EnergyWh = d.energyMod
	if d.measN > 0 {
		dev.MeasuredW = d.measSum / float64(d.measN)
		dev.EnergyWh = d.energyMeas
		e.scoreResidual(d, &dev, d.modOnMeas/float64(d.measN))
	}
	ch := row
	ch.Row = schemas.PowerRowChassis
	ch.ModelledW = d.baseSum / float64(d.modN)
	ch.EnergyWh = ch.ModelledW * hours
	e.out.Rows = append(e.out.Rows, dev, ch)
	for _, p := range d.ports {
		if p.wN == 0 {
			continue
		}
		pr := row
		pr.Row, pr.Component = schemas.PowerRowPort, p.keys
		pr.ModelledW = p.wW / float64(p.wN)
		pr.EnergyWh = pr.ModelledW * hours
		pr.Utilisation = p.wUtil / float64(p.wN)
		pr.SpeedBps = speedBps[p.speed]
		e.out.Rows = append(e.out.Rows, pr)
	}
	e.savings(d, row, hours)
	for _, r := range e.out.Rows[rows:] {
		if !finite(r.ModelledW) || !finite(r.EnergyWh) {
			// An energy beyond a float64 (a mean times the window's
			// hours): the window's rows are not written. Its sums are
			// finite (finishTick), so the device row its residual was
			// scored on is too.
			clear(e.out.Rows[rows:])
			e.out.Rows = e.out.Rows[:rows]
			e.out.Unwritable++
			break
		}
	}
	e.markDirty(d) // the residual history moved
	e.resetWindow(d)
}

// dropWindow drops d's open window without a row, its sums no longer
// finite (finishTick); the
// device's next tick opens a window at the same aligned start, so the rest
// of it is written as a window of its own, whose rows count those ticks.
func (e *Estimator) dropWindow(d *device) {
	e.out.Unwritable++
	e.markDirty(d)
	e.resetWindow(d)
}

// resetWindow empties d's window sums and closes it.
func (e *Estimator) resetWindow(d *device) {
	for _, p := range d.ports {
		p.wW, p.wUtil, p.wN = 0, 0, 0
	}
	d.measSum, d.measN, d.modSum, d.modN, d.modOnMeas, d.energyMeas, d.energyMod, d.baseSum = 0, 0, 0, 0, 0, 0, 0, 0
	d.winEnd = 0
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// scoreResidual scores the window's relative residual against the device's
// history and records a transition.
func (e *Estimator) scoreResidual(d *device, row *schemas.PowerRow, mod float64) {
	r := (row.MeasuredW - mod) / mod
	// Before the model has seen enough, residuals shrink as it learns:
	// neither score nor remember them.
	if d.model.points < uint64(e.cfg.WarmUp) {
		return
	}
	h := d.history
	if len(h) >= 8 {
		med, mad := medianMAD(h)
		scale := math.Max(mad/robustz.MADScale, 0.002)
		z := (r - med) / scale
		row.ResidualZ = z
		dev, az := math.Abs(r-med), math.Abs(z)
		// The hysteresis fires on one window far off and resolves on one
		// back within half the thresholds.
		var changed bool
		if !d.residual.Firing {
			if changed = d.residual.Count(az >= e.cfg.ResidualZ && dev >= e.cfg.MinResidual) >= 1; changed {
				d.residual.Fire(row.WindowEnd, az)
			}
		} else {
			changed = d.residual.Settle(az, az < e.cfg.ResidualZ/2 || dev < e.cfg.MinResidual/2, 1)
		}
		if changed {
			e.out.Residuals = append(e.out.Residuals, Residual{Device: d.name, Firing: d.residual.Firing, TS: row.WindowEnd, StartsAt: d.residual.StartsAt,
				Measured: row.MeasuredW, Modelled: mod, Relative: r, Z: z, Baseline: med, Threshold: math.Max(e.cfg.ResidualZ*scale, e.cfg.MinResidual)})
		}
	}
	if d.residual.Firing {
		return // keep the incident out of the baseline
	}
	if len(h) >= e.cfg.ResidualHistory {
		copy(h, h[1:])
		h = h[:len(h)-1]
	}
	d.history = append(h, r)
}

// savings appends the savings opportunities of a device at the window's
// end.
func (e *Estimator) savings(d *device, row schemas.PowerRow, hours float64) {
	m := d.model
	add := func(p *port, reason string, w float64, detail string) {
		if w <= 0 {
			return
		}
		s := row
		s.Row, s.Component, s.Reason, s.ModelledW, s.EnergyWh, s.SpeedBps, s.Detail = schemas.PowerRowSaving, p.keys, reason, w, w*hours, speedBps[p.speed], detail
		e.out.Rows = append(e.out.Rows, s)
	}
	name := func(p *port) string { return strings.TrimPrefix(p.keys, "name=") }
	bundles := map[string][]*port{}
	for _, p := range d.ports {
		if p.speed == "" {
			continue
		}
		switch {
		case p.isAdminUp() && !p.operUp:
			add(p, schemas.SavingAdminUpOperDown, m.PortWatts(p.speed, true, 0, p.optic),
				fmt.Sprintf("%s is administratively up without link: shutting it down (and removing its transceiver) saves about %.1f W", name(p), m.PortWatts(p.speed, true, 0, p.optic)))
		case !p.isAdminUp() && p.optic:
			add(p, schemas.SavingOpticUnusedPort, m.PortWatts(p.speed, false, 0, true),
				fmt.Sprintf("%s is administratively down with a transceiver in it: removing it saves about %.1f W", name(p), m.PortWatts(p.speed, false, 0, true)))
		case p.lag != "" && p.isAdminUp() && p.operUp:
			bundles[p.lag] = append(bundles[p.lag], p)
		}
	}
	lags := make([]string, 0, len(bundles))
	for k := range bundles {
		lags = append(lags, k)
	}
	sort.Strings(lags)
	for _, lag := range lags {
		ms := bundles[lag]
		if len(ms) < 2 {
			continue
		}
		// The least used member: can the others carry its traffic?
		var low *port
		lowU, total, rest := math.Inf(1), 0.0, 0.0
		for _, p := range ms {
			u := p.wUtil / math.Max(float64(p.wN), 1)
			total += u * float64(speedBps[p.speed])
			if u < lowU {
				low, lowU = p, u
			}
		}
		for _, p := range ms {
			if p != low {
				rest += float64(speedBps[p.speed])
			}
		}
		if lowU < e.cfg.UnderutilisedBelow && total <= e.cfg.BundleFitBelow*rest {
			w := m.PortWatts(low.speed, true, lowU, low.optic)
			add(low, schemas.SavingUnderutilisedParallel, w,
				fmt.Sprintf("%s carries %.0f %% of its capacity and %s's traffic fits on its other members at %.0f %%: shutting it down saves about %.1f W",
					name(low), 100*lowU, lag, 100*total/rest, w))
		}
	}
}

func (e *Estimator) markDirty(d *device) {
	if !d.dirty {
		d.dirty = true
		e.dirty = append(e.dirty, d.name)
	}
}

// Take returns what was produced since the last call; the caller owns it.
func (e *Estimator) Take() Output {
	o := e.out
	e.out = Output{}
	return o
}

// Devices returns the number of devices tracked.
func (e *Estimator) Devices() int { return len(e.devices) }

func medianMAD(h []float64) (med, mad float64) {
	s := slices.Clone(h)
	slices.Sort(s)
	med = median(s)
	for i, v := range s {
		s[i] = math.Abs(v - med)
	}
	slices.Sort(s)
	return med, median(s)
}

func median(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
