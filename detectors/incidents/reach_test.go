package incidents

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// randomAlert is one series a random stream fires and resolves.
type randomAlert struct{ device, metric, keys, detector string }

// randomAlerts are the alerts of randomStream: every class of member on
// the devices of fabricInventory and on two it does not know (so sessions
// join by time alone there), on ports with and without a peer, sessions
// the inventory knows and does not, hardware of both chains, the
// collector's target state and a metric of no class.
func randomAlerts() []randomAlert {
	const (
		mBFD  = "/bfd/interfaces/interface/peers/peer/state/session-state"
		mRx   = "/components/component/transceiver/state/input-power/instant"
		mBias = "/components/component/transceiver/state/laser-bias-current/instant"
		mFan  = "/components/component/fan/state/speed"
	)
	var out []randomAlert
	for _, d := range []string{"spine1", "spine2", "leaf1", "leaf2", "leaf3", "edge8", "edge9"} {
		for _, p := range []string{"e1", "e2", "e3", "e7"} {
			for _, det := range []string{"link_down", "admin_down", "flapping"} {
				out = append(out, randomAlert{d, mOper, "name=" + p, det})
			}
			out = append(out, randomAlert{d, mIn, "name=" + p, "ewma"}, randomAlert{d, mOut, "name=" + p, "level_shift"},
				randomAlert{d, mBFD, "id=" + p + ",local-discriminator=1", "session_down"})
		}
		for _, n := range []string{"10.1.1.0", "10.1.1.1", "10.2.2.0", "10.2.3.1", "10.0.0.0", "10.9.9.9"} {
			out = append(out, randomAlert{d, mBGP, bgp(n), "session_down"})
		}
		out = append(out, randomAlert{d, mNbrs, "name=default", "neighbors_down"},
			randomAlert{d, mPSU, "name=PSU1", "robust_z"}, randomAlert{d, mTemp, "name=Inlet", "robust_z"},
			randomAlert{d, mFan, "name=Fan1", "cusum"}, randomAlert{d, mRx, "name=Et1-transceiver", "drift"},
			randomAlert{d, mBias, "name=Et1-transceiver", "robust_z"}, randomAlert{d, mTarget, "", "target_down"},
			randomAlert{d, mTarget, "", "flapping"}, randomAlert{d, mOther, "", "robust_z"})
	}
	return out
}

// randomStream returns n detections of randomAlerts in bursts (up to 12
// at one instant, as a fault's symptoms come), each alert firing or
// resolving in turn, with bursts from seconds to an hour apart, shuffled
// within skew seconds. A ninth of the alerts share their fingerprint with
// the same series on the other devices.
func randomStream(rng *rand.Rand, n int) []schemas.Detection {
	alerts := randomAlerts()
	firing := map[int]bool{}
	var out []schemas.Detection
	sec := 0
	for len(out) < n {
		sec += []int{1, 5, 30, 120, 600, 3600}[rng.IntN(6)]
		for range 1 + rng.IntN(12) {
			i := rng.IntN(len(alerts))
			a := alerts[i]
			state := schemas.StateFiring
			if firing[i] {
				state = schemas.StateResolved
			}
			firing[i] = !firing[i]
			d := det(sec+rng.IntN(3), state, a.device, a.metric, a.keys, a.detector, rng.Float64()*2e9, 1e9)
			if i%9 == 0 {
				// A producer whose fingerprints do not name the device:
				// one alert identity on several devices.
				d.Fingerprint = "shared " + a.metric + " " + a.keys
			}
			out = append(out, d)
		}
	}
	return shuffleWithin(rng, out, 1+rng.IntN(60))
}

// TestReachMatchesScan: an engine that checks each detection against the
// incidents reach files it under gives, detection by detection, exactly
// what an engine that checks every incident held gives, over random
// streams of every class of detection, with the inventory changing mid
// stream and the engine restored from its changelog records or its old
// whole-state form now and then (which files every incident again).
func TestReachMatchesScan(t *testing.T) {
	for seed := range 60 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		dets := randomStream(rng, 400)
		invs := []*schemas.Inventory{fabricInventory(), nil, testInventory()}
		inv := invs[seed%3]
		ref, _ := New(Config{}, inv)
		ref.scanAll = true
		e, _ := New(Config{}, inv)
		log := map[string][]byte{} // the changelog, compacted
		// flush writes the records of what changed since the last flush
		// to log, before the engine is replaced.
		flush := func() {
			recs, err := e.Changes()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				log[r.Key] = r.Value
			}
		}
		for i := range dets {
			switch r := rng.IntN(100); {
			case r < 2:
				inv = invs[rng.IntN(len(invs))]
				ref.SetInventory(inv)
				e.SetInventory(inv)
			case r < 4:
				flush()
				e = restoredFromLog(t, inv, log)
			case r < 5:
				flush()
				b, err := e.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				e, _ = New(Config{}, inv)
				if err := e.UnmarshalBinary(b); err != nil {
					t.Fatal(err)
				}
			}
			got, want := e.Add(&dets[i]), ref.Add(&dets[i])
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, detection %d (%s %s): with reach\n%s\nchecking every incident\n%s", seed, i, dets[i].State, dets[i].ID, signature(got), signature(want))
			}
		}
		if got, want := e.Open(), ref.Open(); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: incidents held differ:\n%s\n%s", seed, signature(got), signature(want))
		}
	}
}

// restoredFromLog returns an engine restored from the latest record of
// every key of log.
func restoredFromLog(t *testing.T, inv *schemas.Inventory, log map[string][]byte) *Engine {
	t.Helper()
	e, _ := New(Config{}, inv)
	for k, v := range log {
		if err := e.RestoreRecord(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// BenchmarkStormDevices: a storm of link downs, 8 ports on each of N
// devices (one incident each), into one engine; with reach detections per
// second should not fall with N (each is checked against the incidents of
// its own device), where checking every incident held (scan, the engine
// before reach; 500 and 2 000 devices only) falls as 1/N.
func BenchmarkStormDevices(b *testing.B) {
	for _, c := range []struct {
		n    int
		scan bool
	}{{500, true}, {500, false}, {2000, true}, {2000, false}, {8000, false}} {
		mode := "reach"
		if c.scan {
			mode = "scan"
		}
		b.Run(fmt.Sprintf("devices=%d/%s", c.n, mode), func(b *testing.B) {
			dets := make([]schemas.Detection, 0, 8*c.n)
			for d := range c.n {
				for p := range 8 {
					dets = append(dets, fire(d%50, fmt.Sprintf("leaf%04d", d), mOper, fmt.Sprintf("name=Ethernet%d", p), "link_down", 0, 1))
				}
			}
			b.ReportAllocs()
			for range b.N {
				e, _ := New(Config{}, testInventory())
				e.scanAll = c.scan
				for i := range dets {
					e.Add(&dets[i])
				}
				if got := e.OpenCount(); got != c.n {
					b.Fatalf("%d incidents open, want %d", got, c.n)
				}
			}
			b.ReportMetric(float64(b.N*len(dets))/b.Elapsed().Seconds(), "detections/s")
		})
	}
}
