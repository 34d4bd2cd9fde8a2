package gnmi

import (
	"math"

	"github.com/telekernel/telekernel/schemas"
)

// psu.go: the derived PSU input power (schemas.MetricPSUInPower).

// psuReading collects a PSU's input voltage and current seen in one
// notification, to derive its input power.
type psuReading struct {
	keys        string
	volts, amps float64
	has         uint8 // bit 0 volts, bit 1 amps
}

// notePSU records a power supply's input voltage or current. OpenConfig has
// no input-power leaf, so when one notification carries a power supply's
// input-voltage and input-current, the collector adds their product as
// schemas.MetricPSUInPower (derivePSU).
func (d *Decoder) notePSU(se *series, v float64) {
	var bit uint8
	switch se.metric {
	case schemas.MetricPSUInVoltage:
		bit = 1
	case schemas.MetricPSUInCurrent:
		bit = 2
	default:
		return
	}
	i := 0
	for ; i < len(d.psu) && d.psu[i].keys != se.keys; i++ {
	}
	if i == len(d.psu) {
		if i == maxPSU {
			return // a notification with more power supplies derives none for the rest
		}
		d.psu = append(d.psu, psuReading{keys: se.keys})
	}
	r := &d.psu[i]
	r.has |= bit
	if bit == 1 {
		r.volts = v
	} else {
		r.amps = v
	}
}

func (d *Decoder) derivePSU(ts int64) int {
	n := 0
	for _, r := range d.psu {
		if r.has != 3 {
			continue
		}
		d.key = append(d.key[:0], "\x00psu-in-power\x00"...)
		d.key = append(d.key, r.keys...)
		se, ok := d.cache[string(d.key)]
		if !ok {
			ck := schemas.MetricPSUInPower + "\x00" + r.keys
			se = d.canon[ck]
			if se == nil {
				se = &series{metric: schemas.MetricPSUInPower, keys: r.keys, kind: schemas.KindGauge, info: leafInfo{kind: schemas.KindGauge}, lastTS: sentinelTS}
				d.canon[ck] = se
				d.cacheBytes += 2*len(ck) + seriesEntryBytes
			}
			d.cache[string(d.key)] = se
			d.cacheBytes += len(d.key) + cacheEntryBytes
		}
		d.s.F64 = math.Round(r.volts*r.amps*1000) / 1000
		n += d.emit(se, ts)
	}
	return n
}
