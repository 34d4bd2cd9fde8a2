package incidents

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/schemas"
)

// lagOrders returns dets in event-time order and in the order in which
// they arrive when the detections of the alerts for which lagging
// reports true come after every other detection (their detections
// partition behind the others'), each alert's detections kept in order.
func lagOrders(dets []schemas.Detection, lagging func(*schemas.Detection) bool) [][]schemas.Detection {
	var ahead, behind []schemas.Detection
	for i := range dets {
		if lagging(&dets[i]) {
			behind = append(behind, dets[i])
		} else {
			ahead = append(ahead, dets[i])
		}
	}
	return [][]schemas.Detection{dets, append(slices.Clone(ahead), behind...), append(slices.Clone(behind), ahead...)}
}

// checkOneIncident requires every order to give one incident of rule whose
// cause contains cause, with every detection as evidence, and the same
// incident (signature) in every order.
func checkOneIncident(t *testing.T, inv *schemas.Inventory, orders [][]schemas.Detection, rule, cause string) {
	t.Helper()
	var want []string
	for i, order := range orders {
		incs := run(t, inv, order...)
		if len(incs) != 1 {
			for _, in := range incs {
				t.Logf("order %d: %s [%s] %s (%d evidence)", i, in.ID, in.Rule, in.Cause, len(in.Evidence))
			}
			t.Errorf("order %d: %d incidents, want 1", i, len(incs))
			continue
		}
		in := incs[0]
		if in.Rule != rule || !strings.Contains(in.Cause, cause) || len(in.Evidence) != len(order) {
			t.Errorf("order %d: [%s] %q with %d evidence, want [%s] containing %q with %d", i, in.Rule, in.Cause, len(in.Evidence), rule, cause, len(order))
		}
		if got := signature(incs); want == nil {
			want = got
		} else if !slices.Equal(got, want) {
			t.Errorf("order %d gives\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestOpticBiasAtResolution: an optic's light decays (drift, then
// robust_z) and its laser bias's cusum fires at the very instant the
// light's alerts resolve. Whether the bias arrives before or after those
// resolutions (they come from other detections partitions), it joins the
// optic's incident, which stays one incident (issue 15's stream run split
// it in two: the bias, arriving first, found only the light's firings of
// 30 minutes before).
func TestOpticBiasAtResolution(t *testing.T) {
	const (
		mRx   = "/components/component/transceiver/state/input-power/instant"
		mBias = "/components/component/transceiver/state/laser-bias-current/instant"
		keys  = "name=Et6-transceiver"
	)
	dets := []schemas.Detection{
		fire(0, "leaf1", mRx, keys, "drift", -9, -3),
		fire(30, "leaf1", mRx, keys, "robust_z", -9, -3),
		det(1800, schemas.StateResolved, "leaf1", mRx, keys, "drift", -3, -3),
		fire(1800, "leaf1", mBias, keys, "cusum", 9, 6),
		det(1810, schemas.StateResolved, "leaf1", mRx, keys, "robust_z", -3, -3),
		det(5700, schemas.StateResolved, "leaf1", mBias, keys, "cusum", 6, 6),
	}
	biasFirst := []schemas.Detection{dets[0], dets[1], dets[3], dets[2], dets[4], dets[5]}
	resolvedFirst := []schemas.Detection{dets[0], dets[1], dets[2], dets[4], dets[3], dets[5]}
	orders := [][]schemas.Detection{dets, biasFirst, resolvedFirst}
	checkOneIncident(t, nil, orders, schemas.RuleHardware, "Et6-transceiver on leaf1")
	// An optic's bias that moves long after its light's alerts resolved is
	// not the same fault.
	late := append(slices.Clone(dets[:3]), dets[4], fire(1900, "leaf1", mBias, keys, "cusum", 9, 6))
	if incs := run(t, nil, late...); len(incs) != 2 {
		t.Errorf("a bias 90 s after its light resolved: %d incidents, want 2", len(incs))
	}
}

// TestFlapWithLaggingLinkState: a link flaps (down at 0, up at 80, down
// again at 160) and its interface states arrive after every session
// detection of both flaps (their detections partition lagging). The
// sessions' second flap, arriving when the first flap's session incident
// had resolved more than Window before, opens an incident of its own; the
// link state, arriving later, turns the first into the link's incident,
// which then explains the second: one link incident, as in event-time
// order (issue 15's stream run once split it in two).
func TestFlapWithLaggingLinkState(t *testing.T) {
	var dets []schemas.Detection
	for _, at := range []int{0, 80, 160, 240} {
		state := schemas.StateFiring
		if at%160 != 0 {
			state = schemas.StateResolved
		}
		dets = append(dets,
			det(at, state, "leaf1", mNbrs, "name=default", "neighbors_down", 1, 2),
			det(at, state, "leaf1", mBGP, bgp("10.1.1.0"), "session_down", 0, 1),
			det(at, state, "spine1", mBGP, bgp("10.1.1.1"), "session_down", 0, 1),
			det(at, state, "spine1", mOper, "name=e1", "link_down", 0, 1),
			det(at, state, "leaf1", mOper, "name=e1", "link_down", 0, 1))
	}
	orders := lagOrders(dets, func(d *schemas.Detection) bool { return d.Metric == mOper })
	checkOneIncident(t, fabricInventory(), orders, schemas.RuleLink, "link spine1:e1 — leaf1:e1")
}

// TestMergedResolvedAt: an optic's light fires at 0 and resolves at 1800,
// and its laser bias fires at 1800 and resolves at 1830. In event-time
// order the bias reopens the optic's incident, which resolves with it at
// 1830. When the bias's two detections arrive before the light's (their
// partition ahead), the bias opens an incident that the light's incident,
// resolving, then absorbs: the survivor must resolve at
// the latest resolution of its members, 1830, in every order, not at its
// own 1800, before a member's resolution. While the bias fires, it is
// open.
func TestMergedResolvedAt(t *testing.T) {
	const (
		mRx   = "/components/component/transceiver/state/input-power/instant"
		mBias = "/components/component/transceiver/state/laser-bias-current/instant"
		keys  = "name=Et6-transceiver"
	)
	dets := []schemas.Detection{
		fire(0, "leaf1", mRx, keys, "drift", -9, -3),
		det(1800, schemas.StateResolved, "leaf1", mRx, keys, "drift", -3, -3),
		fire(1800, "leaf1", mBias, keys, "cusum", 9, 6),
		det(1830, schemas.StateResolved, "leaf1", mBias, keys, "cusum", 6, 6),
	}
	orders := lagOrders(dets, func(d *schemas.Detection) bool { return d.Metric == mRx })
	checkOneIncident(t, nil, orders, schemas.RuleHardware, "Et6-transceiver on leaf1")
	want := t0.Add(1830 * time.Second)
	for i, order := range orders {
		incs := run(t, nil, order...)
		if len(incs) != 1 {
			continue // reported above
		}
		if in := incs[0]; in.State != schemas.IncidentResolved || !in.ResolvedAt.Equal(want) || !in.UpdatedAt.Equal(want) {
			t.Errorf("order %d: %s, resolved at %v, updated at %v; want resolved at %v", i, in.State, in.ResolvedAt, in.UpdatedAt, want)
		}
	}
	// The bias still firing: the survivor is open in every order, never
	// resolved before a member that fires.
	for i, order := range lagOrders(dets[:3], func(d *schemas.Detection) bool { return d.Metric == mRx }) {
		if incs := run(t, nil, order...); len(incs) != 1 || incs[0].State != schemas.IncidentOpen || incs[0].ResolvedAt != nil {
			t.Errorf("order %d with the bias firing: %d incidents, the first %s", i, len(incs), incs[0].State)
		}
	}
}
