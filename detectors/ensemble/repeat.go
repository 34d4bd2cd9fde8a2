package ensemble

import "fmt"

// MaxRepeatCount bounds RepeatConfig.Count.
const MaxRepeatCount = 8

// RepeatConfig configures Config.Repeat: with the gate (Config.MinZ), an
// alert does not fire on a run off the baseline when each of the series'
// last Count alerts, all of them within the last Window points, was about
// as far from its expected value as the run is so far, or farther: the
// run's largest distance (in the series' own units) is at most an
// alert's plus the band's half-width at this point (BandZ baseline
// sigmas, what the baseline calls noise). A series whose own history shows many large excursions
// (bursty traffic, a heavy-tailed latency) then needs a larger one to
// alarm; the first Count excursions of a size still fire, and so does one
// of that size again once Window points have passed since the oldest of
// those alerts or the latest run of the habit, whichever is later: a run
// found to be the habit, whether or not it broke a record, dates the
// alerts it matched anew, so a recurring job (an hourly cron's CPU burst)
// stays a habit for as long as it recurs within Window points. Level
// shifts and range breaks are not affected. Count 0, the default, turns
// the rule off; so does -1, which a caller that supplies a default of its
// own (the detect stage's gauges) leaves alone.
type RepeatConfig struct {
	// Count is how many earlier alerts at least as far off make a run the
	// series' habit (1 to MaxRepeatCount; 0 or -1: off).
	Count int `yaml:"count"`
	// Window is how many points back those alerts count.
	Window int `yaml:"window"`
}

// Validate reports the first bad field.
func (c RepeatConfig) Validate() error {
	switch {
	case c.Count < -1 || c.Count > MaxRepeatCount:
		return fmt.Errorf("count: %d must be in [-1, %d]", c.Count, MaxRepeatCount)
	case c.Count > 0 && c.Window < 1:
		return fmt.Errorf("window: %d must be at least 1 with count %d", c.Window, c.Count)
	case c.Window < 0:
		return fmt.Errorf("window: %d must not be negative", c.Window)
	}
	return nil
}

// excursion is an alert's run off the baseline: its largest distance from
// the expected value and the point count at its onset.
type excursion struct {
	dev float64
	n   uint64
}

// repeats is the memory of Config.Repeat: the series' latest alerts, in a
// ring of Count slots.
type repeats struct {
	last [MaxRepeatCount]excursion
	next uint8 // the slot the next alert goes to
}

// remember records an alert whose run was dev off, at point n.
func (p *repeats) remember(c RepeatConfig, dev float64, n uint64) {
	if c.Count <= 0 {
		return
	}
	p.last[p.next] = excursion{dev: dev, n: n}
	p.next = uint8((int(p.next) + 1) % c.Count)
}

// habitual reports whether each of the last c.Count alerts, all within
// c.Window points of n, was at least dev off (the caller takes the band's
// half-width off the run's distance): a run that far off is then the
// series' habit, not news.
func (p *repeats) habitual(c RepeatConfig, dev float64, n uint64) bool {
	if c.Count <= 0 {
		return false
	}
	for _, x := range p.last[:c.Count] {
		if x.n == 0 || n-x.n > uint64(c.Window) || x.dev < dev {
			return false
		}
	}
	return true
}

// renew dates the last c.Count alerts at point n: a run that habitual
// found to be the series' habit keeps the habit in memory for another
// c.Window points, as the alerts it matched would if they had just fired.
func (p *repeats) renew(c RepeatConfig, n uint64) {
	for i := range p.last[:c.Count] {
		p.last[i].n = n
	}
}

// dwarfs reports whether a run dev off is CooldownBreak times as far off
// as the latest alert remembered, when that alert fired at point onset
// (the one that began the cooldown): news within the cooldown
// (Config.Cooldown), not the same incident. Without the rule nothing is
// remembered, and it reports false.
func (p *repeats) dwarfs(c RepeatConfig, dev float64, onset uint64) bool {
	if c.Count <= 0 {
		return false
	}
	prev := p.last[(int(p.next)+c.Count-1)%c.Count]
	return prev.n == onset && prev.dev > 0 && dev >= CooldownBreak*prev.dev
}
