package incidents

import (
	"math/rand/v2"
	"testing"
)

// TestFarEndReach: on random far-end scenarios (farEndScenario), in
// shuffled orders, the engine that checks a detection against the
// incidents reach files it under publishes what one that checks every
// incident does: the far-end join (farEndJoins) looks only at the far
// end's device, which reach files both sides under. A guard: it held
// when the rule came.
func TestFarEndReach(t *testing.T) {
	inv := bigFabric(3, 6)
	for seed := range uint64(200) {
		dets := farEndScenario(rand.New(rand.NewPCG(seed, 41)))
		compareScan(t, inv, shuffleWithin(rand.New(rand.NewPCG(seed, 43)), dets, 3))
	}
}
