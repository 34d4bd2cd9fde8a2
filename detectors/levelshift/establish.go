package levelshift

// restartCandidate restarts the series' candidate level at the point of
// log lx, which UpdateUnit calls for a positive point outside the band
// (log lx above -Inf, a side) while the series has no established level
// (fewer than MinPoints points within the band): the point becomes the
// candidate instead, so a level is established by MinPoints points that
// agree with each other, as a later shift is confirmed by points that
// agree, and not by the series' first positive reading (a series that
// starts with a spike does not carry the spike as its level until Accept
// points have passed). Points at zero are not evidence for a level: they
// stay a run below the band, counted in the spread as always. A run the
// restart ends counts in the spread as a run back in the band does.
func (d *Detector) restartCandidate(lx float64) {
	if d.run > 0 {
		d.spread(int(d.run))
	}
	d.level, d.carry, d.n = lx, lx, 1
	d.run, d.dir, d.calm = 0, 0, 0
}

// Established reports whether the series has a level: MinPoints points
// within Ratio of the candidate level, with no positive point outside it
// in between (see restartCandidate). Before that the detector fires no
// shift (Score.WarmedUp is false). The ensemble's veto still uses the
// candidate level: without it before the level is established, bigdama18
// gave 3 more false incidents outside the devices' own events (125
// against 122) and NAB the same score.
func (d *Detector) Established() bool { return d.n >= uint64(d.cfg.MinPoints) }
