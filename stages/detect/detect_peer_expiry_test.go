package detect

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/detectors/peer"
	"github.com/telekernel/telekernel/pipeline"
	"github.com/telekernel/telekernel/schemas"
)

// TestDetectPeerGroupExpiresWithDevice: device r1's three fans report
// for 200 ticks, Fan2 20 % slow from tick 100 (a sibling alert fires),
// then r1 stops while r2 reports on. When the sweep drops r1's series
// (series_expiry 1h), the sibling alert is resolved at its last reading
// plus the expiry, with the firing detection's fingerprint, and r1's
// sibling group goes with its series: out of memory, and a tombstone in
// the next checkpoint. Before, the group stayed in memory and in the
// changelog for ever, and its alert fired for ever.
func TestDetectPeerGroupExpiresWithDevice(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sb := schemas.NewSampleBuilder(memory.NewGoAllocator())
	defer sb.Release()
	var recs []*kgo.Record
	const stop = 200
	for i := range 1000 {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixNano()
		for f := 1; f <= 3 && i < stop; f++ {
			v := 5000 * (1 + 0.01*rng.NormFloat64())
			if f == 2 && i >= 100 {
				v *= 0.8
			}
			sb.Append(&schemas.Sample{TS: ts, Device: "r1", Kind: schemas.KindGauge, Metric: schemas.MetricFanSpeed,
				Keys: fmt.Sprintf("name=Fan%d", f), F64: v, Source: schemas.SourceGNMI})
		}
		sb.Append(&schemas.Sample{TS: ts, Device: "r2", Kind: schemas.KindGauge, Metric: "/system/cpu", F64: 10 + rng.NormFloat64(), Source: schemas.SourceGNMI})
		recs = append(recs, recordOf(t, sb))
	}
	cfg := Config{SeriesExpiry: time.Hour}
	cfg.Rules.Peer.Warmup = 40
	d := newTestDetect(t, cfg)
	var peers []*schemas.Detection
	for _, det := range process(t, d, recs) {
		if det.Detector == PeerRule {
			peers = append(peers, det)
		}
	}
	last := t0.Add((stop - 1) * 10 * time.Second)
	if len(peers) != 2 || peers[0].State != schemas.StateFiring || peers[1].State != schemas.StateResolved ||
		peers[1].Fingerprint != peers[0].Fingerprint || !peers[1].EventTime.Equal(last.Add(time.Hour)) {
		t.Fatalf("sibling detections %v, want r1 Fan2 fired, then resolved at %v", summary(peers), last.Add(time.Hour))
	}
	if d.Series() != 1 {
		t.Errorf("%d series held, want r2's only", d.Series())
	}
	if g := d.peers.parts[0][peerKey{device: "r1", kind: peer.Fan}]; g != nil {
		t.Errorf("r1's sibling group is still held: %d members", g.g.Members())
	}
	key := pipeline.StateKey(nil, schemas.SeriesKey{Device: "r1", Metric: peerPrefix + "fan"})
	if v, ok := checkpoint(d)[string(key)]; !ok || v != nil {
		t.Errorf("checkpoint: r1's sibling group record %q (present %v), want a tombstone", v, ok)
	}
}
