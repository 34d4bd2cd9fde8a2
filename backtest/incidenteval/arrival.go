package incidenteval

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// Arrival returns dets in an order they may reach the correlate stage on
// the stream: each detection arrives a random delay in [0, skew) after its
// event time (seeded by seed), never before an earlier detection of the
// same alert (one alert's detections share a detections partition, which
// keeps their order). Detections less than skew apart may so arrive in
// either order, as detections of one instant do when the route reads
// several detections partitions; detections of one event time arrive in a
// random order even when skew is 0.
func Arrival(dets []schemas.Detection, skew time.Duration, seed uint64) []schemas.Detection {
	rng := newRand(seed)
	return arrive(dets, rng, func(*schemas.Detection) int64 {
		if skew > 0 {
			return rng.Int64N(int64(skew))
		}
		return 0
	})
}

// newRand returns the random source of seed.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// arrive returns dets in the order they arrive when each arrives delay(d)
// after its event time, never before an earlier detection of the same
// alert; detections arriving at the same instant come in a random order
// (from rng).
func arrive(dets []schemas.Detection, rng *rand.Rand, delay func(*schemas.Detection) int64) []schemas.Detection {
	type arrival struct {
		at, tie int64
		d       schemas.Detection
	}
	last := map[string]int64{}
	out := make([]arrival, len(dets))
	for i := range dets {
		d := &dets[i]
		at := d.EventTime.UnixNano() + delay(d)
		if prev, ok := last[d.Fingerprint]; ok {
			at = max(at, prev+1)
		}
		last[d.Fingerprint] = at
		out[i] = arrival{at, rng.Int64(), *d}
	}
	slices.SortFunc(out, func(a, b arrival) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.tie, b.tie)) })
	res := make([]schemas.Detection, len(out))
	for i := range out {
		res[i] = out[i].d
	}
	return res
}

// Signature returns what must not depend on arrival order in an incident:
// its rule, cause, entities and evidence (detection and role), each list
// sorted. Ids, which name an incident's first symptom to arrive, may
// differ.
func Signature(in *schemas.Incident) string {
	ents := make([]string, len(in.Entities))
	for i, e := range in.Entities {
		ents[i] = fmt.Sprintf("%+v", e)
	}
	evs := make([]string, len(in.Evidence))
	for i, e := range in.Evidence {
		evs[i] = e.Role + ":" + e.DetectionID
	}
	slices.Sort(ents)
	slices.Sort(evs)
	return fmt.Sprintf("%s|%s|%s|%s|%s", in.Rule, in.Cause, in.State, strings.Join(ents, ";"), strings.Join(evs, ";"))
}

// PartitionArrival returns dets in an order they may reach the correlate
// stage when one detections partition lags the others: each alert's
// detections sit on one of partitions partitions (by a hash of its
// fingerprint, as the detections topic is keyed), each partition is a
// random lag in [0, lag) behind event time (seeded by seed), and
// detections that then arrive at the same instant come in a random order.
// One alert's detections keep their order.
func PartitionArrival(dets []schemas.Detection, partitions int, lag time.Duration, seed uint64) []schemas.Detection {
	rng := newRand(seed)
	lags := make([]int64, partitions)
	for i := range lags {
		if lag > 0 {
			lags[i] = rng.Int64N(int64(lag))
		}
	}
	return arrive(dets, rng, func(d *schemas.Detection) int64 {
		h := fnv.New32a()
		h.Write([]byte(d.Fingerprint))
		return lags[h.Sum32()%uint32(partitions)]
	})
}
