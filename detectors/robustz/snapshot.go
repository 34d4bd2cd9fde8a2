package robustz

import "fmt"

// AppendWindow appends the window's values, oldest first, to dst and
// returns it. With SetWindow it lets a caller persist and restore a
// detector (the runtime's changelog does).
func (d *Detector) AppendWindow(dst []float64) []float64 {
	if d.n < len(d.ring) {
		return append(dst, d.ring[:d.n]...)
	}
	dst = append(dst, d.ring[d.pos:]...)
	return append(dst, d.ring[:d.pos]...)
}

// SetWindow replaces the window with values, oldest first, as returned by
// AppendWindow. It fails when there are more values than the window holds.
func (d *Detector) SetWindow(values []float64) error {
	if len(values) > len(d.ring) {
		return fmt.Errorf("robustz: %d values do not fit a window of %d", len(values), len(d.ring))
	}
	clear(d.ring)
	copy(d.ring, values)
	d.n = len(values)
	d.pos = d.n % len(d.ring)
	return nil
}
