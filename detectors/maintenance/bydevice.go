package maintenance

import (
	"slices"

	"github.com/telekernel/telekernel/schemas"
)

// devKeys are the keys one device holds in a tracker's maps (series,
// covs, psus), so that what a stage asks of one device (Latest, StepBack)
// reads that device's keys, not every key of the partition: the maintain
// stage asks Latest about once per input record while a device's samples
// come more than expiry.StepBack behind its series. A key is added when
// its map gains it and removed when its map loses it, so a device's
// answers are those of a scan of the maps.
type devKeys struct {
	series, covs, psus []schemas.SeriesKey
}

// keysOf returns the keys device holds (nil: none).
func (t *Tracker) keysOf(device string) *devKeys { return t.byDev[device] }

// addKey records k, a key just added to one of the maps (list picks its
// list).
func (t *Tracker) addKey(k schemas.SeriesKey, list func(*devKeys) *[]schemas.SeriesKey) {
	d := t.byDev[k.Device]
	if d == nil {
		d = &devKeys{}
		t.byDev[k.Device] = d
	}
	l := list(d)
	*l = append(*l, k)
}

// dropKey forgets k, a key just deleted from one of the maps (list picks
// its list), and its device once it holds none.
func (t *Tracker) dropKey(k schemas.SeriesKey, list func(*devKeys) *[]schemas.SeriesKey) {
	d := t.byDev[k.Device]
	if d == nil {
		return
	}
	l := list(d)
	if i := slices.Index(*l, k); i >= 0 {
		last := len(*l) - 1
		(*l)[i] = (*l)[last]
		*l = (*l)[:last]
	}
	if len(d.series)+len(d.covs)+len(d.psus) == 0 {
		delete(t.byDev, k.Device)
	}
}

func seriesList(d *devKeys) *[]schemas.SeriesKey { return &d.series }
func covList(d *devKeys) *[]schemas.SeriesKey    { return &d.covs }
func psuList(d *devKeys) *[]schemas.SeriesKey    { return &d.psus }
