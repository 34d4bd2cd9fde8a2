package detect

import "slices"

// A partition's series are also held by device (expiryState.series), so
// that what the stage asks of one device reads that device's series, not
// every series of the partition: the latest sample time of its series
// (newest), asked about once per input record while its samples come
// more than behindBy behind its series (a second source late, or its
// clock stepped back: clockstep.go), and the series a step takes back.
// A series is added and removed with the partition's map (addSeries,
// removeSeries), so a device's series are those of a scan of the map.

// addSeries adds st, just put in the partition's map, to its device's
// series; old (nil: none) is the series it replaced.
func (e *expiryState) addSeries(st, old *seriesState) {
	l := e.series[st.key.Device]
	if old != nil {
		if i := slices.Index(l, old); i >= 0 {
			l[i] = st
			return
		}
	}
	e.series[st.key.Device] = append(l, st)
}

// removeSeries removes st, just deleted from the partition's map, from
// its device's series, and the device once it holds none.
func (e *expiryState) removeSeries(st *seriesState) {
	dev := st.key.Device
	l := e.series[dev]
	i := slices.Index(l, st)
	if i < 0 {
		return
	}
	last := len(l) - 1
	l[i], l[last] = l[last], nil
	if last == 0 {
		delete(e.series, dev) // expire forgets the device
		return
	}
	e.series[dev] = l[:last]
}

// newest returns the latest sample time of device's series in ps (0:
// none), in its own time.
func (ps *partState) newest(device string) int64 {
	var n int64
	for _, o := range ps.exp.series[device] {
		n = max(n, o.last())
	}
	return n
}
