package stateevents

import "testing"

// TestCarrierGlitch: a carrier-transitions counter that reads less once
// (an agent's bad read of 0, or a sample a little behind from a second
// collector) and its true count again on the next sample fires nothing:
// the count never moved. An increment after the glitch counts from the
// count before it, and a decrease the next sample confirms (a reboot, a
// clear) is still a new baseline whose increments fire. The glitch
// survives a record: a tracker restored between the two samples does the
// same. Before, the glitch was taken for a reset and the next sample's
// return to the true count for that many transitions: a carrier_flap
// (warning) for a read one below, a critical flapping alert for a read
// of 0 on a port with 4 or more transitions in its history.
func TestCarrierGlitch(t *testing.T) {
	run(t, "a read of 0 once", ClassCarrier, []step{
		{100, "12", false, ""}, {110, "12", false, ""}, {120, "0", false, ""}, {130, "12", false, ""}, {140, "12", false, ""},
	})
	run(t, "one below once", ClassCarrier, []step{
		{100, "12", false, ""}, {110, "11", false, ""}, {120, "12", false, ""}, {130, "12", false, ""},
	})
	run(t, "a flap after the glitch counts from the count before it", ClassCarrier, []step{
		{100, "12", false, ""}, {110, "0", false, ""}, {120, "13", false, "fired carrier_flap"}, {130, "13", false, "resolved carrier_flap"},
	})
	run(t, "a reset the next sample confirms", ClassCarrier, []step{
		{100, "12", false, ""}, {110, "0", false, ""}, {120, "0", false, ""}, {130, "1", false, "fired carrier_flap"},
	})
	run(t, "a reboot that comes back counting", ClassCarrier, []step{
		{100, "12", false, ""}, {110, "0", false, ""}, {120, "2", false, "fired carrier_flap"},
	})
	cfg := Config{}.WithDefaults()
	a := New(ClassCarrier)
	for i, v := range []uint64{12, 12, 0} {
		a.UpdateCounter(&cfg, int64(100+10*i)*sec, v, false)
	}
	b := New(ClassCarrier)
	if err := b.UnmarshalBinary(mustMarshal(a)); err != nil {
		t.Fatal(err)
	}
	if ev := b.UpdateCounter(&cfg, 130*sec, 12, false); ev.Transition != None {
		t.Errorf("restored between the glitch and the next sample: %v", ev)
	}
}
