package alertstate

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// TestLoadAsOfRetentionDuringReplay: retention deletes the whole range
// LoadAsOf is to replay between its listing the offsets and its first
// fetch. LoadAsOf returns, counting the deleted detections as missed,
// rather than wait for a record at the range's end that no fetch brings.
// Before, it waited until its context ended.
func TestLoadAsOfRetentionDuringReplay(t *testing.T) {
	c, kc, cl := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const det, alerts = "tk.detections", "tk.alerts"
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: det, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopic(ctx, cl, alerts, 1); err != nil {
		t.Fatal(err)
	}
	for i, dev := range []string{"a", "b", "c"} {
		r := record(t, detection(dev, schemas.StateFiring, schemas.SeverityWarning, i))
		r.Topic = det
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := kadm.NewClient(cl)
	var os kadm.Offsets
	os.AddOffset(det, 0, 3, -1)
	if _, err := adm.CommitOffsets(ctx, "tk-bridge", os); err != nil {
		t.Fatal(err)
	}
	// The first fetch of the replay (of tk.detections: the alerts topic is
	// fetched first) finds the range deleted.
	td, err := adm.ListTopics(ctx, det)
	if err != nil {
		t.Fatal(err)
	}
	id := td[det].ID
	var once sync.Once
	c.ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		replay := false
		for _, tp := range req.(*kmsg.FetchRequest).Topics {
			replay = replay || tp.Topic == det || tp.TopicID == id
		}
		if !replay {
			return nil, nil, false
		}
		once.Do(func() {
			c.SleepControl(func() {
				var to kadm.Offsets
				to.AddOffset(det, 0, 3, -1)
				if _, err := adm.DeleteRecords(ctx, to); err != nil {
					t.Error(err)
				}
			})
		})
		return nil, nil, false
	})
	lctx, lcancel := context.WithTimeout(ctx, 10*time.Second)
	defer lcancel()
	state, rp, err := LoadAsOf(lctx, kc, alerts, AsOf{Detections: det, StateGroup: "tk-alertstate", Group: "tk-bridge"})
	if err != nil {
		t.Fatalf("LoadAsOf with its range deleted meanwhile: %v", err)
	}
	if len(state) != 0 || rp.Missed != 3 {
		t.Errorf("state %v, %d missed; want none restored and 3 missed", state, rp.Missed)
	}
}
