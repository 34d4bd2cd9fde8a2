package ensemble

import (
	"bytes"
	"testing"

	"github.com/telekernel/telekernel/detectors/robustz"
)

// TestHeldRestoreEveryPoint: an ensemble restored from its own record
// before every point of the six held days, the first included (holds, kept bins, echoes,
// the weekend change) scores every point bit for bit as the
// uninterrupted one, and writes the same records.
func TestHeldRestoreEveryPoint(t *testing.T) {
	for name, cfg := range map[string]Config{
		"hold":        {MinZ: 6, SpikeZ: 10, Confirm: 2, Hold: 360, RobustZ: robustz.Config{Window: 60}},
		"hold-repeat": {MinZ: 6, SpikeZ: 10, Confirm: 2, Hold: 360, RobustZ: robustz.Config{Window: 60}, Repeat: RepeatConfig{Count: 3, Window: 3000}},
		"hold-level":  {MinZ: 6, Confirm: 3, Hold: 360, RobustZ: robustz.Config{Window: 60}, Detectors: []string{"robust_z", "ewma", "seasonal", "cusum", "level_shift"}},
	} {
		t.Run(name, func(t *testing.T) {
			sh, err := NewShared(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ts, xs := heldDays(1)
			a, b := sh.New(), sh.New()
			versions := map[byte]int{}
			for i := range xs {
				sa, err := a.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				sb, err := b.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(sa, sb) {
					t.Fatalf("point %d: records differ (versions %d, %d)", i, sa[1], sb[1])
				}
				versions[sa[1]]++
				b = sh.New()
				if err := b.UnmarshalBinary(sb); err != nil {
					t.Fatalf("point %d: %v", i, err)
				}
				ra, rb := a.Update(ts[i], xs[i]), b.Update(ts[i], xs[i])
				if ra != rb {
					t.Fatalf("point %d: restored %+v, original %+v", i, rb, ra)
				}
			}
			t.Logf("record versions %v", versions)
		})
	}
}
