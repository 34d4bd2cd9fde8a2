package backtest

import (
	"fmt"
	"io"
	"time"
)

// printSim writes, for simulated data scored against its ground truth, one
// row per fault kind (what is expected of the detect stage, the path meant
// to catch it, and per configuration the faults detected on their device,
// on their peers, and the latencies), one row per fault, and the false
// incidents per 100 device-hours.
func printSim(w io.Writer, results []*Result) error {
	tw := newTable(w, results, "fault kind\texpect\tpath", " detected (peers) median/max latency")
	for i, k := range results[0].Sim.Kinds {
		line := fmt.Sprintf("%s\t%s\t%s", k.Kind, k.Expect, k.Path)
		for _, r := range results {
			line += "\t" + kindCell(&r.Sim.Kinds[i])
		}
		fmt.Fprintln(tw, line)
	}
	row := func(label string, f func(s *SimReport) string) {
		line := label + "\t\t"
		for _, r := range results {
			line += "\t" + f(r.Sim)
		}
		fmt.Fprintln(tw, line)
	}
	row("faults the detect stage must fire on", func(s *SimReport) string {
		line := fmt.Sprintf("%d/%d detected", s.RequiredDetected, s.Required)
		if s.Outside > 0 {
			line += fmt.Sprintf(" (%d outside the replayed data, not scored)", s.Outside)
		}
		return line
	})
	row("false incidents per 100 device-hours", func(s *SimReport) string {
		return fmt.Sprintf("%.3g (%d in %.0f device-hours)", s.FalsePer100DeviceHours, s.FalseIncidents, s.DeviceHours)
	})
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = newTable(w, results, "fault\tkind\tdevice\tkeys\tstart", "")
	for i, f := range results[0].Sim.Faults {
		line := fmt.Sprintf("sim.faults[%d]\t%s\t%s\t%s\t%s", f.Index, f.Kind, f.Device, f.Keys, f.EventResult.Start.Format(time.RFC3339))
		for _, r := range results {
			line += "\t" + faultCell(&r.Sim.Faults[i])
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// kindCell is a kind's detected count (fired on, for ExpectSilent), peers
// and latencies, with a verdict for what is expected of it.
func kindCell(k *KindResult) string {
	if k.Faults == 0 && k.Outside > 0 {
		return "outside the data"
	}
	s := fmt.Sprintf("%d/%d", k.Detected, k.Faults)
	if k.Peers > 0 {
		s += fmt.Sprintf(" (%d/%d)", k.PeersDetected, k.Peers)
	}
	if k.Detected > 0 {
		s += " " + signed(k.MedianLatency) + "/" + signed(k.MaxLatency)
	}
	switch {
	case k.Expect == ExpectSilent && k.OK:
		s += " silent: ok"
	case k.Expect == ExpectSilent:
		s += " fired: FALSE"
	case k.Expect == ExpectFire && !k.OK:
		s += " MISSED"
	}
	return s
}

// faultCell is how one fault was detected on its device, its peers and
// the devices that saw its effects.
func faultCell(f *FaultResult) string {
	if f.Outside {
		return "outside the data"
	}
	s := "missed"
	if f.Detected() {
		s = eventCell(&f.EventResult)
	}
	if f.Peers > 0 {
		s += fmt.Sprintf("; peers %d/%d", f.PeersDetected, f.Peers)
	}
	if f.Effects > 0 {
		s += fmt.Sprintf("; effects seen %d/%d", f.EffectsDetected, f.Effects)
	}
	if f.PrecursorFired {
		s += "; fired during the wear"
	}
	return s
}
