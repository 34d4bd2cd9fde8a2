package backtest

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/schemas"
)

// FormatSim runs the simulated fleet in memory (OpenSim, LoadSim).
const FormatSim = "sim"

// Defaults of a simulated backtest.
var (
	// DefaultSimStart is the first tick of a simulated backtest whose sim:
	// section sets no start: a fixed Monday midnight (UTC), so that runs
	// repeat exactly.
	DefaultSimStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
)

// DefaultSimSpan is the simulated time of a backtest whose sim: section
// and flags set no span.
const DefaultSimSpan = 24 * time.Hour

// simBatchTicks is how many ticks of one device a batch of OpenSim holds.
const simBatchTicks = 32

// simSource steps a fleet and hands out its samples device by device,
// simBatchTicks ticks at a time.
type simSource struct {
	fleet   *sim.Fleet
	end     time.Time
	index   map[string]int        // device name -> position
	batches [][]schemas.Sample    // per device, the current ticks
	next    int                   // the next device to hand out
	psu     map[string][2]float64 // per PSU keys of the current device and tick: volts, amps
}

// OpenSim returns a Source over a simulated fleet: cfg (a zero Start takes
// DefaultSimStart; defaults applied) stepped in memory, as fast as the
// detect stage takes, from Start until Start+span (every tick before it).
// The samples are those `telekernel run` collects from the same fleet over
// gNMI: the fleet's own, with power-supply values passed through float32
// (their OpenConfig type) and each PSU's derived input power
// (schemas.MetricPSUInPower, voltage × current) added, as the gNMI collector
// does. There is no Kafka and no network.
func OpenSim(cfg sim.Config, span time.Duration) (Source, error) {
	cfg = SimConfig(cfg)
	if span <= 0 {
		return nil, fmt.Errorf("cannot simulate: span %v must be positive", span)
	}
	f, err := sim.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot simulate: sim.%w", err)
	}
	s := &simSource{fleet: f, end: cfg.Start.Add(span), index: map[string]int{}, psu: map[string][2]float64{}}
	for i, d := range f.Devices() {
		s.index[d] = i
	}
	s.batches = make([][]schemas.Sample, len(s.index))
	s.next = len(s.batches)
	return s, nil
}

// SimConfig returns cfg as a simulated backtest runs it: DefaultSimStart
// when it sets no start, and the simulator's defaults.
func SimConfig(cfg sim.Config) sim.Config {
	if cfg.Start.IsZero() {
		cfg.Start = DefaultSimStart
	}
	return cfg.WithDefaults()
}

// Next implements Source.
func (s *simSource) Next(context.Context) ([]schemas.Sample, error) {
	for s.next >= len(s.batches) || len(s.batches[s.next]) == 0 {
		if s.next < len(s.batches) {
			s.next++
			continue
		}
		if !s.fleet.Now().Before(s.end) {
			return nil, io.EOF
		}
		s.step()
	}
	s.next++
	return s.batches[s.next-1], nil
}

// step generates up to simBatchTicks ticks (none at or after the end).
func (s *simSource) step() {
	for i := range s.batches {
		s.batches[i] = s.batches[i][:0]
	}
	s.next = 0
	for range simBatchTicks {
		if !s.fleet.Now().Before(s.end) {
			return
		}
		cur, ts := "", s.fleet.Now().UnixNano()
		s.fleet.Next(func(smp *schemas.Sample) {
			if smp.Device != cur {
				s.derivePSU(cur, ts)
				cur = smp.Device
			}
			s.add(*smp)
		})
		s.derivePSU(cur, ts)
	}
}

// add appends smp to its device's batch as the gNMI collector publishes
// it: PSU values through float32, noting voltage and current.
func (s *simSource) add(smp schemas.Sample) {
	if smp.Kind == schemas.KindGauge && strings.Contains(smp.Metric, "/power-supply/") {
		smp.F64 = viaFloat32(smp.F64)
		r := s.psu[smp.Keys]
		switch smp.Metric {
		case schemas.MetricPSUInVoltage:
			r[0] = smp.F64
		case schemas.MetricPSUInCurrent:
			r[1] = smp.F64
		}
		s.psu[smp.Keys] = r
	}
	i := s.index[smp.Device]
	s.batches[i] = append(s.batches[i], smp)
}

// derivePSU appends the derived input power of every PSU of device dev
// seen in its last tick, as the gNMI collector adds it, and forgets them.
func (s *simSource) derivePSU(dev string, ts int64) {
	if dev == "" || len(s.psu) == 0 {
		return
	}
	i := s.index[dev]
	// The fleet emits PSU1 before PSU2; keep that order.
	for _, keys := range [...]string{"name=PSU1", "name=PSU2"} {
		r, ok := s.psu[keys]
		if !ok {
			continue
		}
		s.batches[i] = append(s.batches[i], schemas.Sample{TS: ts, Device: dev, Metric: schemas.MetricPSUInPower, Keys: keys,
			Kind: schemas.KindGauge, F64: math.Round(r[0]*r[1]*1000) / 1000, Source: schemas.SourceSim})
	}
	clear(s.psu)
}

// viaFloat32 is v sent as an IEEE float32 and read back in its shortest
// decimal form, as the gNMI collector reads ieeefloat32 leaves.
func viaFloat32(v float64) float64 {
	g, _ := strconv.ParseFloat(strconv.FormatFloat(float64(float32(v)), 'g', -1, 32), 64)
	return g
}

// Close implements Source.
func (s *simSource) Close() error { return nil }

// LoadSim prepares a simulated backtest of cfg (as SimConfig runs it) over
// span: one replay of the whole fleet, its devices, and the ground truth
// of its faults (Dataset.Sim).
func LoadSim(cfg sim.Config, span time.Duration) (*Dataset, error) {
	cfg = SimConfig(cfg)
	if span <= 0 {
		return nil, fmt.Errorf("cannot simulate: span %v must be positive", span)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cannot simulate: sim.%w", err)
	}
	truth, err := SimGroundTruth(cfg)
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Format: FormatSim, Devices: map[string]bool{}, Sim: truth, Span: span}
	for i := range cfg.Devices {
		ds.Devices[sim.DeviceName(i)] = true
	}
	ds.Groups = []Group{{Name: "sim", Open: func() (Source, error) { return OpenSim(cfg, span) }}}
	return ds, nil
}

// SimulatedHours returns how much event time a replay has covered: the
// longest device span in st.
func SimulatedHours(st Stats) float64 {
	h := 0.0
	for _, sp := range st.Devices {
		h = max(h, sp.Hours())
	}
	return h
}
