package gnmi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	pb "github.com/openconfig/gnmi/proto/gnmi"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/telekernel/telekernel/collectors/gnmi"
)

// TestScalarOnlyListEntryWarned: a target that sends, three times, a
// JSON_IETF list whose entries hold only scalars. The entries are counted
// as unsupported and the stream says so once at WARN, naming the list and
// what to subscribe to instead. Before, such entries published nothing,
// counted nothing and logged nothing.
func TestScalarOnlyListEntryWarned(t *testing.T) {
	queues := &pb.Path{Elem: []*pb.PathElem{{Name: "qos"}, {Name: "queues"}}}
	val := &pb.TypedValue{Value: &pb.TypedValue_JsonIetfVal{JsonIetfVal: []byte(`{"queue":[{"name":"q0","depth":5},{"name":"q1","depth":2}]}`)}}
	addr, _ := rawTarget(t, func(ctx context.Context, send func([]byte) error) error {
		if err := send(syncResponse); err != nil {
			return nil
		}
		now := time.Now().UnixNano()
		for i := range int64(3) {
			if err := send(encode(t, &pb.Notification{Timestamp: now + i, Update: []*pb.Update{{Path: queues, Val: val}}})); err != nil {
				return nil
			}
		}
		return nil
	})
	c, logs, stop := collectLogged(t, "vendor", addr, prometheus.NewRegistry())
	waitFor(t, 10*time.Second, "every notification decoded", func() bool { return c.Stats().Responses == 3+1 })
	stop()
	if st := c.Stats(); st.Samples != 0 || st.Dropped[gnmi.DropUnsupported] != 3*2 {
		t.Errorf("%d samples, %d unsupported; want 0 and the 6 entries", st.Samples, st.Dropped[gnmi.DropUnsupported])
	}
	w := logLines(logs, "level=WARN", "target=vendor")
	if len(w) != 1 || !strings.Contains(w[0], "reason=unsupported") || !strings.Contains(w[0], "example=/qos/queues/queue") ||
		!strings.Contains(w[0], "scalars only") {
		t.Errorf("want one warning naming the list and why, got:\n%s", strings.Join(w, "\n"))
	}
}
