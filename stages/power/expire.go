package power

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
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
	pt.gone = pt.e.Silent(pt.gone, cutoff)
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
	}
	ports, psus := pt.e.ForgetComponents(cutoff)
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
