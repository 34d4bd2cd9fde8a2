package gnmi_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/gnmi"
	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
	"github.com/telekernel/telekernel/schemas"
)

// TestLargeNotificationsToKafka: whole-chassis notifications (1000
// interfaces × 30 counters, and 4000 × 30) reach a real Kafka topic whose
// max.message.bytes is 256 KiB complete: the collector learns the limit
// from the topic, cuts batches by size while decoding, and every row
// arrives once (the broker refuses a record above the limit, which would
// show as a publish error).
func TestLargeNotificationsToKafka(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	ctx := context.Background()
	kc := kafka.Config{Brokers: []string{broker}}
	cl, err := kafka.Connect(ctx, kc, kgo.MaxBufferedBytes(32<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topic := fmt.Sprintf("tk.samples.gnmi-large-%d", time.Now().UnixNano())
	const topicMax = 256 << 10
	limit := strconv.Itoa(topicMax)
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, map[string]*string{"max.message.bytes": &limit}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatal(err)
	}
	defer dropTopic(cl, topic)
	learned, err := publish.TopicMaxMessageBytes(ctx, cl, topic)
	if err != nil || learned != topicMax {
		t.Fatalf("learned max.message.bytes %d (%v), want %d", learned, err, topicMax)
	}
	pub, err := publish.New(cl, publish.Config{Topic: topic, MaxBatchBytes: publish.BatchBytesFor(learned)})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Now().UnixNano()
	addr, _ := rawTarget(t, func(ctx context.Context, send func([]byte) error) error {
		for i, ifaces := range []int{1000, 4000} {
			if err := send(chassis(t, ts+int64(i), ifaces, 30)); err != nil {
				return err
			}
		}
		return send(syncResponse)
	})
	const want = (1000 + 4000) * 30
	cfg := fastConfig([]gnmi.Target{{Name: "chassis", Address: addr}})
	cfg.MaxRows = 1 << 20 // the size limit, not the row limit, cuts the batches
	c, stop := runCollector(t, cfg, pub, slog.New(slog.NewTextHandler(&testenv.LogBuffer{}, nil)))
	waitFor(t, 60*time.Second, "the notifications decoded", func() bool { return c.Stats().Samples == want })
	stop()
	ps := pub.Stats()
	t.Logf("%d samples in %d records, %d bytes", ps.Samples, ps.Batches, ps.Bytes)
	// + the target's state and reason when it came up (targetstate.go).
	if ps.Samples != want+2 || ps.Errors != 0 || ps.Batches < want*48/topicMax {
		t.Fatalf("publisher: %+v, want %d samples in at least %d records and no error", ps, want, want*48/topicMax)
	}
	rd, err := kafka.Connect(ctx, kc, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxPartitionBytes(topicMax))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rows := consume(t, rd, want+2)
	rows = slices.DeleteFunc(rows, func(s schemas.Sample) bool { return strings.HasPrefix(s.Metric, "telekernel:/") })
	seen := map[string]bool{}
	perTS := map[int64]int{}
	for _, s := range rows {
		k := fmt.Sprint(s.Metric, s.Keys, s.TS)
		if seen[k] {
			t.Fatalf("duplicate row %s", k)
		}
		seen[k] = true
		perTS[s.TS]++
	}
	if len(rows) != want || perTS[ts] != 1000*30 || perTS[ts+1] != 4000*30 {
		t.Fatalf("%d rows, per notification %v; want %d and %d", len(rows), perTS, 1000*30, 4000*30)
	}
}

// dropTopic deletes a test topic, so the shared broker does not keep the
// big tests' data.
func dropTopic(cl *kgo.Client, topic string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).DeleteTopics(ctx, topic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		fmt.Println("cannot delete test topic:", topic, err)
	}
}
