package power

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
	"github.com/telekernel/telekernel/stages/internal/expiry"
)

// expire drops, after a record, the devices of partition n that had no
// sample for device_expiry before the sweep boundary the partition's
// newest sample has reached, once per boundary (expiry.Clock), in name
// order, then the ports and PSUs that had none for as long from the
// devices that report on without them (power.Estimator.ForgetComponents).
// A device whose residual alert fires gets its resolved detection first
// (resolveStale). A device's open window, which no later tick closed,
// goes with it unwritten, as it did when it was kept. The boundaries are
// fixed in event time, so an instance that restored the partition sweeps
// where the one before it would have: the outputs and the state are the
// same.
func (p *Stage) expire(n int32, pt *part, emit func(*kgo.Record)) error {
	cutoff, ok := pt.clock.Due(p.cfg.DeviceExpiry)
	if !ok {
		return nil
	}
	start := len(pt.gone)
	pt.gone = silent(pt, cutoff)
	devs := pt.gone[start:]
	resolved := 0
	for _, dev := range devs {
		last, res := pt.e.LastSample(dev)
		if res.Firing {
			resolved++
			if err := p.resolveStale(emit, dev, last, res.StartsAt); err != nil {
				return err
			}
		}
		pt.e.Forget(dev)
		pt.devs.Forget(dev)
	}
	pt.dev, pt.devName = nil, "" // it may be forgotten
	ports, psus := p.forgetComponents(pt, cutoff)
	if len(devs) == 0 && ports == 0 && psus == 0 {
		return nil
	}
	p.devices.Add(-int64(len(devs)))
	p.metrics.Expired("power", len(devs))
	p.log.Info("dropped the state of devices, ports and PSUs without a sample for power.device_expiry; one that comes back starts fresh",
		"partition", n, "devices", len(devs), "firing_resolved", resolved, "ports", ports, "psus", psus,
		"device_expiry", p.cfg.DeviceExpiry, "before", time.Unix(0, cutoff).UTC())
	return nil
}

// silent appends to pt.gone, in name order, the devices of pt whose
// latest sample, placed on the partition's clock (expiry.Devices), is
// before cutoff, and returns it.
func silent(pt *part, cutoff int64) []string {
	start, gone := len(pt.gone), pt.gone
	for _, dev := range pt.e.Silent(nil, math.MaxInt64) { // every device with a sample
		if last, _ := pt.e.LastSample(dev); pt.devs.At(dev, last) < cutoff {
			gone = append(gone, dev)
		}
	}
	slices.Sort(gone[start:])
	return gone
}

// forgetComponents drops the ports and PSUs of pt's devices that had no
// sample before cutoff, each latest sample placed on the partition's
// clock by the offset that held then (expiry.Device.At), and returns how
// many went.
func (p *Stage) forgetComponents(pt *part, cutoff int64) (ports, psus int) {
	return pt.e.ForgetComponentsIf(func(dev string, last int64) bool { return pt.devs.At(dev, last) < cutoff })
}

// restoredClock reads the sweep clock of pt, restored from the
// changelog, back from its devices (each latest sample placed by its
// offset; the device that holds the newest cannot have expired), as the
// instance that wrote the state had it after its last record, and drops
// the offsets of devices restored without state.
func (p *Stage) restoredClock(pt *part) {
	pt.restored = false
	pt.clock = expiry.Clock{}
	for _, dev := range pt.devs.Names() {
		if pt.e.DeviceModel(dev) == nil {
			pt.devs.Forget(dev)
		}
	}
	pt.dev, pt.devName = nil, ""
	for _, dev := range pt.e.Silent(nil, math.MaxInt64) {
		last, _ := pt.e.LastSample(dev)
		pt.clock.Restored(pt.devs.At(dev, last), p.cfg.DeviceExpiry)
	}
}

// resolveStale emits the resolved detection of the residual alert of
// device, which fires since startsAt and whose last sample was at last,
// at last + device_expiry: the firing one's fingerprint, info, no
// reading (observed and expected 0), and a description saying the device
// stopped.
func (p *Stage) resolveStale(emit func(*kgo.Record), device string, last, startsAt int64) error {
	det := p.residualDetection(device, false, last+int64(p.cfg.DeviceExpiry), startsAt)
	det.Severity = schemas.SeverityInfo
	det.Annotations["description"] = fmt.Sprintf("resolved without a reading: no sample since %s (power.device_expiry %v), the device stopped",
		time.Unix(0, last).UTC().Format(time.RFC3339), p.cfg.DeviceExpiry)
	p.log.Info("power residual", "state", det.State, "device", device, "stale", true)
	return p.det.Send(emit, det)
}

// checkpointGone emits the tombstones of partition n's expired devices
// that have not come back since.
func (p *Stage) checkpointGone(n int32, pt *part, emit func(partition int32, key, value []byte)) {
	for _, dev := range pt.gone {
		if pt.e.DeviceModel(dev) == nil {
			emit(n, []byte(powerDeviceKeyPrefix+dev), nil)
		}
	}
	clear(pt.gone)
	pt.gone = pt.gone[:0]
}
