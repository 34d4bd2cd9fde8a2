package incidents

import (
	"strings"
	"testing"

	"github.com/telekernel/telekernel/schemas"
)

// TestFarEndBackUpFirst: leaf1's link to spine1 (not collected)
// goes down and comes back up 20 s later; leaf2's link to spine1 goes down
// 20 s after that. spine1 was answering leaf1 while leaf2's link went
// down, so it is not "down (inferred from its neighbours: 2 links to it
// down at once)". Before, farEnd counted a link whose down was already
// resolved (its firing member within Window of the new link's) as down
// with it.
func TestFarEndBackUpFirst(t *testing.T) {
	dets := []schemas.Detection{
		fire(0, "leaf1", mOper, "name=e1", "link_down", 0, 1),
		det(20, schemas.StateResolved, "leaf1", mOper, "name=e1", "link_down", 1, 1),
		fire(40, "leaf2", mOper, "name=e1", "link_down", 0, 1),
	}
	incs := run(t, fabricInventory(), dets...)
	if cause, ok := namesDown(incs, "spine1"); ok {
		t.Errorf("a link back up before the other went down: %q; want link incidents:\n%s", cause, strings.Join(orderCauses(incs), "\n"))
	}
}
