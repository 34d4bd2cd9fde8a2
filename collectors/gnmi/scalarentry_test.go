package gnmi

import (
	"testing"
)

// TestScalarOnlyListEntryCounted: a JSON_IETF subtree whose list entries
// hold only scalars (a vendor model without config and state containers)
// cannot be told apart into keys and values, so each such entry is counted
// as unsupported, naming the list as the example the stream's warning
// gives, while an OpenConfig-shaped entry beside it is still published.
// Before, every scalar of such an entry was taken for a key, so the entry
// published nothing and counted no drop: the values were lost without a
// word.
func TestScalarOnlyListEntryCounted(t *testing.T) {
	out, d := decodeAll(t, DecoderConfig{},
		notif(t, ts1, "/qos",
			upd(t, "queues", jsonv(`{"queue":[{"name":"q0","depth":5,"drops":"7"},{"name":"q1","depth":2,"drops":"0"}]}`))),
		notif(t, ts1, "",
			upd(t, "/interfaces", jsonv(`{"interface":[{"name":"Ethernet1","state":{"oper-status":"UP"}}]}`))))
	if len(out) != 1 || out[0].Metric != "/interfaces/interface/state/oper-status" || out[0].Keys != "name=Ethernet1" {
		t.Errorf("samples %+v, want only Ethernet1's oper-status", out)
	}
	st := d.Stats()
	if got := st.DroppedFor(DropUnsupported); got != 2 {
		t.Errorf("%d dropped as %s, want the 2 scalar-only entries", got, DropUnsupported)
	}
	if ex := d.example[dropUnsupported]; ex != "/qos/queues/queue" {
		t.Errorf("example %q, want the list /qos/queues/queue", ex)
	}
}
