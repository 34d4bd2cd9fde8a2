package gnmi

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pb "github.com/openconfig/gnmi/proto/gnmi"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/schemas"
)

// counters returns a notification of interface port's in- and out-octets
// at ts, both v.
func counters(t *testing.T, ts int64, port string, v uint64) *pb.SubscribeResponse {
	return notif(t, ts, "/interfaces/interface[name="+port+"]/state/counters",
		upd(t, "in-octets", u64v(v)), upd(t, "out-octets", u64v(v)))
}

// TestDedupClockStepsBack: a target samples three interfaces' counters
// every 10 s; its clock, which ran ten minutes ahead, is stepped back
// (NTP) after 110 s, and sampling goes on on the new time line for two
// more minutes. Every sample after the step is published, stamped as the
// device sent it: the step restarts deduplication (one clock step
// counted, its size the notification's lag behind the stream's latest,
// 590 s). Genuine duplicates are still dropped: the last cycle before the
// step resent (a reconnect's snapshot), a leaf stamped with its last
// change (oper-status, at 50 s on the old time line) resent after the
// step, and the last cycle after it resent. Neither counts as a step.
func TestDedupClockStepsBack(t *testing.T) {
	const sec = int64(1e9)
	ports := []string{"Ethernet1", "Ethernet2", "Ethernet3"}
	oper := func(ts int64) *pb.SubscribeResponse {
		return notif(t, ts, "/interfaces/interface[name=Ethernet1]/state", upd(t, "oper-status", strv("UP")))
	}
	var rs []*pb.SubscribeResponse
	cycle := func(ts int64, v uint64) {
		for _, p := range ports {
			rs = append(rs, counters(t, ts, p, v))
		}
	}
	v := uint64(0)
	for i := range int64(12) { // 0 … 110 s, ten minutes ahead
		cycle(ts1+i*10*sec, v)
		v++
		if i == 5 {
			rs = append(rs, oper(ts1+50*sec))
		}
	}
	cycle(ts1+110*sec, v-1) // resent: duplicates (6)
	step := ts1 + 120*sec - 600*sec
	for i := range int64(12) { // the next cycles, ten minutes back
		cycle(step+i*10*sec, v)
		v++
		if i == 3 {
			rs = append(rs, oper(ts1+50*sec)) // resent: a duplicate
		}
	}
	cycle(step+110*sec, v-1) // resent: duplicates (6)
	out, d := decodeAll(t, DecoderConfig{}, rs...)
	st := d.Stats()
	var after int
	for _, s := range out {
		if s.Metric == schemas.MetricInOctets && s.TS >= step && s.TS < ts1 {
			after++
		}
	}
	if after != 12*len(ports) {
		t.Errorf("%d in-octets samples published after the step, want %d", after, 12*len(ports))
	}
	if want := uint64(24*2*len(ports) + 1); st.Samples != want || len(out) != int(want) {
		t.Errorf("%d samples (%d out), want %d: every cycle's and oper-status once", st.Samples, len(out), want)
	}
	if got := st.DroppedFor(DropDuplicate); got != uint64(4*len(ports)+1) {
		t.Errorf("%d duplicates dropped, want %d: the two cycles and oper-status resent", got, 4*len(ports)+1)
	}
	if st.ClockSteps != 1 || d.lastStep != 590*sec {
		t.Errorf("%d clock steps, the last %d s; want 1 of 590 s", st.ClockSteps, d.lastStep/sec)
	}
}

// TestDedupNoFalseClockStep: timestamps that go back without the
// device's clock stepping are no step. A second line card whose clock is
// five minutes behind the first stamps its own interfaces (each series
// moves forward on its card's time line: everything is published); a
// reconnect's snapshot resends every leaf with the stamp it had (hours
// old for a last-change stamp): duplicates; a sample a few seconds older
// than its series' latest (two sample tasks of one leaf interleaved) is
// dropped, as before.
func TestDedupNoFalseClockStep(t *testing.T) {
	const sec = int64(1e9)
	lc2 := -300 * sec
	var rs []*pb.SubscribeResponse
	changed := ts1 - 3*3600*sec
	rs = append(rs, notif(t, changed, "/interfaces/interface[name=Ethernet1]/state", upd(t, "oper-status", strv("UP"))))
	for i := range int64(20) {
		ts := ts1 + i*10*sec
		rs = append(rs, counters(t, ts, "Ethernet1/1", uint64(i)), counters(t, ts+lc2, "Ethernet2/1", uint64(i)))
	}
	// The snapshot of a resubscription: every leaf as last sent.
	rs = append(rs, notif(t, changed, "/interfaces/interface[name=Ethernet1]/state", upd(t, "oper-status", strv("UP"))),
		counters(t, ts1+190*sec, "Ethernet1/1", 19), counters(t, ts1+190*sec+lc2, "Ethernet2/1", 19))
	rs = append(rs, counters(t, ts1+185*sec, "Ethernet1/1", 18)) // 5 s older
	out, d := decodeAll(t, DecoderConfig{}, rs...)
	st := d.Stats()
	if want := 1 + 20*2*2; len(out) != want {
		t.Errorf("%d samples, want %d", len(out), want)
	}
	if got := st.DroppedFor(DropDuplicate); got != 1+2*2+2 {
		t.Errorf("%d duplicates, want %d", got, 1+2*2+2)
	}
	if st.ClockSteps != 0 {
		t.Errorf("%d clock steps, want none", st.ClockSteps)
	}
}

// TestDedupClockStepsBackTwice: two steps back (a reboot with a wrong RTC,
// then NTP stepping it further) each restart deduplication; series first
// sampled after the second step, whose last sample is from before the
// first, are published too.
func TestDedupClockStepsBackTwice(t *testing.T) {
	const sec = int64(1e9)
	var rs []*pb.SubscribeResponse
	n := 0
	for _, start := range []int64{ts1, ts1 - 3600*sec, ts1 - 7200*sec} {
		for i := range int64(6) {
			ts := start + i*10*sec
			rs = append(rs, counters(t, ts, "Ethernet1", uint64(n)))
			if start != ts1-3600*sec { // Ethernet2 is not sampled between the steps
				rs = append(rs, counters(t, ts, "Ethernet2", uint64(n)))
			}
			n++
		}
	}
	out, d := decodeAll(t, DecoderConfig{}, rs...)
	st := d.Stats()
	if want := 2 * (6*2 + 6 + 6*2); len(out) != want || st.DroppedFor(DropDuplicate) != 0 {
		t.Errorf("%d samples, %d duplicates; want %d and none", len(out), st.DroppedFor(DropDuplicate), want)
	}
	if st.ClockSteps != 2 {
		t.Errorf("%d clock steps, want 2", st.ClockSteps)
	}
}

// TestClockOffset: a device whose clock runs two hours ahead reports
// offset +2h (telekernel_gnmi_clock_offset_seconds) from its first sample;
// a notification stamped before its clock (a leaf's last change) does not
// move it; once NTP steps its clock back the offset follows, to the
// network's delay; with timestamp: receive it is 0.
func TestClockOffset(t *testing.T) {
	const sec = int64(1e9)
	ahead := 2 * 3600 * sec
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := publish.NewBatch(mem, "dev1", schemas.SourceGNMI)
	defer b.Release()
	d := newDecoder(t, b, DecoderConfig{})
	decode := func(r *pb.SubscribeResponse, recv, want int64) {
		t.Helper()
		if _, err := d.DecodeResponse(r, recv); err != nil {
			t.Fatal(err)
		}
		if got := d.Stats().ClockOffset; got != want {
			t.Fatalf("clock offset %v, want %v", time.Duration(got), time.Duration(want))
		}
	}
	recv := ts1 - ahead
	for i := range int64(6) { // every 10 s, two hours ahead
		decode(counters(t, ts1+i*10*sec, "Ethernet1", uint64(i)), recv+i*10*sec, ahead)
	}
	decode(notif(t, ts1-3600*sec, "/interfaces/interface[name=Ethernet1]/state", upd(t, "oper-status", strv("UP"))), recv+55*sec, ahead)
	for i := range int64(6) { // stepped back to the collector's time, received 20 ms later
		at := recv + (60+i*10)*sec
		decode(counters(t, at, "Ethernet1", uint64(6+i)), at+20e6, -20e6)
	}
	if d.Stats().ClockSteps != 1 {
		t.Errorf("clock steps %d, want 1", d.Stats().ClockSteps)
	}
	_, rd := decodeAll(t, DecoderConfig{Timestamp: TimestampReceive}, counters(t, ts1, "Ethernet1", 1))
	if got := rd.Stats().ClockOffset; got != 0 {
		t.Errorf("timestamp: receive: clock offset %v, want 0", time.Duration(got))
	}
}
