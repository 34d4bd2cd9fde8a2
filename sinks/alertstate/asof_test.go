package alertstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// TestLoadAsOf: tk.detections holds a firing (0), a resolved (1), b firing
// (2), c firing (3) and d firing (4); tk.alerts holds what the alertstate
// stage wrote of them before committing offset 1 (a firing), and
// tk.alerts.all what it wrote of all five (committed 5). LoadAsOf returns
// the alerts firing as the bridge's group has consumed tk.detections,
// whatever the alertstate stage's lag. On a real Kafka with TK_KAFKA set
// (topics and groups of a random prefix), else on kfake.
func TestLoadAsOf(t *testing.T) {
	prefix, kc, cl := "tk", kafka.Config{}, (*kgo.Client)(nil)
	if broker := os.Getenv("TK_KAFKA"); broker != "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		prefix = "test-asof-" + hex.EncodeToString(b)
		kc = kafka.Config{Brokers: []string{broker}}
		var err error
		if cl, err = kafka.Connect(context.Background(), kc); err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
	} else {
		_, kc, cl = cluster(t)
	}
	det, alerts, all := prefix+".detections", prefix+".alerts", prefix+".alerts.all"
	group := func(name string) string { return prefix + "-" + name }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kafka.EnsureTopics(ctx, cl, kafka.TopicSpec{Name: det, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	defer func() { _, _ = adm.DeleteTopics(context.Background(), det, alerts, all) }()
	for _, topic := range []string{alerts, all} {
		if err := EnsureTopic(ctx, cl, topic, 1); err != nil {
			t.Fatal(err)
		}
	}
	ds := []*schemas.Detection{
		detection("a", schemas.StateFiring, schemas.SeverityWarning, 0),
		detection("a", schemas.StateResolved, schemas.SeverityWarning, 1),
		detection("b", schemas.StateFiring, schemas.SeverityWarning, 2),
		detection("c", schemas.StateFiring, schemas.SeverityWarning, 3),
		detection("d", schemas.StateFiring, schemas.SeverityWarning, 4),
	}
	write := func(topic string, ds ...*schemas.Detection) {
		t.Helper()
		for _, d := range ds {
			r := record(t, d)
			r.Topic = topic
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(det, ds...)
	write(alerts, ds[0])
	write(all, ds...)
	commit := func(name string, at int64) {
		t.Helper()
		var os kadm.Offsets
		os.AddOffset(det, 0, at, -1)
		if _, err := adm.CommitOffsets(ctx, group(name), os); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		_, _ = adm.DeleteGroups(context.Background(), group("state"), group("state-ahead"), group("bridge-4"), group("bridge-1"), group("bridge-3"),
			group("bridge-8"), group("bridge-9"))
	}()
	commit("state", 1)
	commit("state-ahead", 5)
	commit("bridge-4", 4)
	commit("bridge-1", 1)
	commit("bridge-3", 3)

	for _, tc := range []struct {
		name, alerts, stateGroup, group string
		want                            []string // firing devices
		replayed                        int
	}{
		// The alertstate stage lags the bridge: a's resolution, b's and
		// c's firing are applied from tk.detections.
		{"state behind", alerts, "state", "bridge-4", []string{"b", "c"}, 3},
		// The alertstate stage never committed: tk.detections from its
		// start up to the bridge's offset.
		{"state never committed", alerts, "none", "bridge-3", []string{"b"}, 3},
		// Both at the same offset: tk.alerts alone.
		{"same offsets", alerts, "state", "bridge-1", []string{"a"}, 0},
		// The bridge never committed: it reads tk.detections from its
		// start, nothing is replayed.
		{"bridge never committed", alerts, "state", "none", []string{"a"}, 0},
		// The alertstate stage ahead: tk.alerts' state, which the bridge
		// reaches once it consumes from its offset on.
		{"state ahead", all, "state-ahead", "bridge-1", []string{"b", "c", "d"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, rp, err := LoadAsOf(ctx, kc, tc.alerts, AsOf{Detections: det, StateGroup: group(tc.stateGroup), Group: group(tc.group)})
			if err != nil {
				t.Fatal(err)
			}
			var firing []string
			for d := range maps.Values(state) {
				if d.State == schemas.StateFiring {
					firing = append(firing, d.Device)
				}
			}
			slices.Sort(firing)
			if !slices.Equal(firing, tc.want) || rp.Records != tc.replayed {
				t.Errorf("firing %v after replaying %d detections, want %v after %d", firing, rp.Records, tc.want, tc.replayed)
			}
		})
	}

	// A transactional producer (as the detect stage is) writes e firing
	// (5, its commit marker 6) and f firing in a transaction it aborts (7,
	// its abort marker 8): a group's committed offset can be past a marker
	// or just past the aborted record, which a read-committed fetch skips.
	tx, err := kafka.Connect(ctx, kc, kgo.TransactionalID(prefix+"-asof-tx"))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	for _, c := range []struct {
		d      *schemas.Detection
		commit kgo.TransactionEndTry
	}{
		{detection("e", schemas.StateFiring, schemas.SeverityWarning, 5), kgo.TryCommit},
		{detection("f", schemas.StateFiring, schemas.SeverityWarning, 6), kgo.TryAbort},
	} {
		if err := tx.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		r := record(t, c.d)
		r.Topic = det
		if err := tx.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := tx.EndTransaction(ctx, c.commit); err != nil {
			t.Fatal(err)
		}
	}
	commit("bridge-9", 9)
	commit("bridge-8", 8)
	for _, g := range []string{"bridge-9", "bridge-8"} {
		state, rp, err := LoadAsOf(ctx, kc, alerts, AsOf{Detections: det, StateGroup: group("state"), Group: group(g)})
		if err != nil {
			t.Fatal(err)
		}
		var firing []string
		for d := range maps.Values(state) {
			if d.State == schemas.StateFiring {
				firing = append(firing, d.Device)
			}
		}
		slices.Sort(firing)
		if want := []string{"b", "c", "d", "e"}; !slices.Equal(firing, want) || rp.Records != 5 {
			t.Errorf("%s: firing %v after replaying %d detections, want %v after 5", g, firing, rp.Records, want)
		}
	}

	// Retention deleted offsets 0 and 1 before the alertstate stage (which
	// never committed) read them: a's states are missed (tk.alerts' a
	// firing stays), and counted.
	var del kadm.Offsets
	del.AddOffset(det, 0, 2, -1)
	if _, err := adm.DeleteRecords(ctx, del); err != nil {
		t.Fatal(err)
	}
	state, rp, err := LoadAsOf(ctx, kc, alerts, AsOf{Detections: det, StateGroup: group("state"), Group: group("bridge-4")})
	if err != nil {
		t.Fatal(err)
	}
	if rp.Missed != 1 || rp.Records != 2 || len(state) != 3 {
		t.Errorf("after retention: %d alerts, %d replayed, %d missed; want 3, 2, 1", len(state), rp.Records, rp.Missed)
	}
}
