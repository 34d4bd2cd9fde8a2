package detect

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// FuzzRestoreState feeds arbitrary changelog records to Restore, seeded
// with the records of a stage that scored a simulated fleet (counters,
// gauges, states, optics, power). A record either is refused with an error
// (the runner then stops with one line naming the partition) or gives
// series that score a next sample of each kind without error (a sibling
// group: a device's tick, whose power supplies and fans join it) and whose
// state, written again, restores: a changelog record never panics the
// stage, and what it accepts it can carry on from.
func FuzzRestoreState(f *testing.F) {
	recs, _, _ := simConfigMessages(f, sim.Config{Devices: 2, Transceivers: true, Power: true, Faults: []sim.Fault{}}, 240)
	d := newTestDetect(f, Config{})
	process(f, d, recs)
	seen := map[string]bool{} // one seed per state version and kind byte
	npeer := 0                // and every sibling group's
	ckpt := checkpoint(d)
	for _, key := range slices.Sorted(maps.Keys(ckpt)) {
		value := ckpt[key]
		peers := strings.Contains(key, peerPrefix)
		if len(value) < 2 || seen[string(value[:2])] && !peers {
			continue
		}
		seen[string(value[:2])] = true
		if peers {
			npeer++
		}
		f.Add([]byte(key), value)
	}
	// A port's LLDP neighbour count, lost and back: a tracker of its class
	// (the fleet above has no topology).
	lldp := newTestDetect(f, Config{})
	for i, v := range []float64{1, 0, 1, 0} {
		s := schemas.Sample{TS: time.Unix(0, 1e18).Add(time.Duration(i) * 10 * time.Second).UnixNano(), Metric: schemas.MetricLLDPNeighbors,
			Keys: "name=Ethernet1", Kind: schemas.KindGauge, F64: v, Source: schemas.SourceSim}
		process(f, lldp, []*kgo.Record{renamed([]schemas.Sample{s}, "sim-00")})
	}
	lk := checkpoint(lldp)
	for key, value := range lk {
		f.Add([]byte(key), value)
	}
	if len(lk) != 1 {
		f.Fatalf("%d records of an LLDP neighbour count, want 1", len(lk))
	}
	if len(seen) < 3 || npeer == 0 {
		f.Fatalf("%d kinds of changelog record and %d sibling groups' to seed from, want several and some", len(seen), npeer)
	}
	tick := laterTick(f, sim.Config{Devices: 1, Transceivers: true, Power: true, Faults: []sim.Fault{}})
	f.Fuzz(func(t *testing.T, key, value []byte) {
		d := newTestDetect(t, Config{})
		if err := d.Restore(0, key, value); err != nil {
			return
		}
		// A sibling group restored: a tick of a whole device under its
		// name, whose power supplies and optics join it.
		if k, err := pipeline.ParseStateKey(key); err == nil && strings.HasPrefix(k.Metric, peerPrefix) {
			if r := renamed(tick, k.Device); r != nil {
				process(t, d, []*kgo.Record{r})
			}
		}
		if ps := d.parts[0]; ps != nil {
			for k := range ps.series { // Restore adds one series at most
				// Its own kind, and the others a device may switch it to.
				for _, kind := range []schemas.Kind{schemas.KindCounter, schemas.KindGauge, schemas.KindState} {
					if r := nextSample(k, kind); r != nil {
						process(t, d, []*kgo.Record{r})
					}
				}
			}
		}
		for k, b := range d.SeriesStates() {
			again := newTestDetect(t, Config{})
			if err := again.Restore(0, pipeline.StateKey(nil, k), b); err != nil {
				t.Fatalf("%s: the state it accepted and wrote again does not restore: %v", k, err)
			}
		}
	})
}

// nextSample returns a message of one sample of series k of kind, years
// after the simulator's start (later than any seeded state), or nil when
// the key cannot be encoded (the encoder refuses it, as a collector would
// never publish it).
func nextSample(k schemas.SeriesKey, kind schemas.Kind) *kgo.Record {
	s := schemas.Sample{TS: 2e18, Device: k.Device, Metric: k.Metric, Keys: k.Keys, Kind: kind, U64: 1 << 40, F64: 42, Str: "UP", Source: schemas.SourceSim}
	return renamed([]schemas.Sample{s}, k.Device)
}

// laterTick returns the samples of one tick of cfg's fleet, years
// after the simulator's start (later than any seeded state).
func laterTick(tb testing.TB, cfg sim.Config) []schemas.Sample {
	tb.Helper()
	cfg.Start = time.Unix(0, 2e18).UTC()
	fleet, err := sim.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var out []schemas.Sample
	fleet.Next(func(s *schemas.Sample) { out = append(out, *s) })
	return out
}

// renamed returns a message of samples as device's, or nil when it cannot
// be encoded (the encoder refuses the name, as a collector would never
// publish it).
func renamed(samples []schemas.Sample, device string) *kgo.Record {
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	for _, s := range samples {
		s.Device = device
		sb.Append(&s)
	}
	rec := sb.NewRecord()
	defer rec.Release()
	val, err := schemas.EncodeSamples(nil, rec)
	if err != nil {
		return nil
	}
	return &kgo.Record{Topic: "in", Key: []byte(device), Value: val, Headers: kafka.RecordHeaders(schemas.SamplesHeaders())}
}
