package sim

import (
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// SavingLabels returns the ground truth of the energy savings power mode
// offers: a row per port that is administratively up without a link (no
// cable or no transceiver: the power stage's
// schemas.SavingAdminUpOperDown), on its oper-status series, from the
// fleet's start until the first configuration change of the port's admin
// state or transceiver, or until until when none changes them. They are kept
// apart from Labels, whose rows are faults a detector must fire on: a
// saving is a state, not an event. Nil without power mode.
func (f *Fleet) SavingLabels(until time.Time) []Label {
	if !f.cfg.Power {
		return nil
	}
	var out []Label
	start := f.cfg.Start.UTC()
	for d := range f.devices {
		dev := &f.devices[d]
		for i := range dev.ifaces {
			it := &dev.ifaces[i]
			if it.adminDown || (!it.noLink && it.optic) {
				continue
			}
			end := until
			for _, c := range f.changes {
				if c.device == d && c.iface == i && (c.c.Admin != "" || c.c.Optic != "") {
					end = c.at
					break
				}
			}
			if end.After(start) {
				out = append(out, Label{Device: dev.name, Metric: schemas.MetricOperStatus, Keys: it.keys, Kind: schemas.SavingAdminUpOperDown,
					Start: start, End: end.UTC()})
			}
		}
	}
	return out
}
