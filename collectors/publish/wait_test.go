package publish

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/schemas"
)

// slowWriter writes after a pause.
type slowWriter struct{ w io.Writer }

func (s slowWriter) Write(b []byte) (int, error) {
	time.Sleep(20 * time.Millisecond)
	return s.w.Write(b)
}

// TestWaitReportsOnlyWhatItWaitedFor is a collector's life: samples lost
// in a broker outage long before the stop (logged and counted then), the
// broker back, then a clean stop, whose Wait must not fail for that old
// loss, or every clean SIGTERM after an outage exits 1. A stop whose
// final flush does lose samples (the broker down again: they time out
// while Wait waits, or are still unacknowledged when its ctx ends) gets an
// error naming the topic and how many samples of this flush were lost.
func TestWaitReportsOnlyWhatItWaitedFor(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	var down atomic.Bool
	// Down, the broker answers every produce with NOT_ENOUGH_REPLICAS,
	// which the client retries until the record's delivery timeout.
	cluster.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		if !down.Load() {
			return nil, nil, false
		}
		req := kreq.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.NotEnoughReplicas.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.RecordDeliveryTimeout(time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// The log writer is slow, as stderr on a loaded machine is: the loss
	// must not show in Stats before its ERROR line is written.
	var logs bytes.Buffer
	pub, err := New(cl, Config{Topic: "samples"}, WithLogger(slog.New(slog.NewTextHandler(slowWriter{&logs}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	publish := func(rows int) {
		t.Helper()
		b := NewBatch(memory.NewGoAllocator(), "dev", schemas.SourceGNMI)
		defer b.Release()
		for i := range rows {
			b.AppendGauge(int64(i), b.MetricIndex("/m"), b.KeysIndex(""), 1)
		}
		rec := b.NewRecord()
		defer rec.Release()
		if err := pub.Publish(ctx, "dev", rec); err != nil {
			t.Fatal(err)
		}
	}

	// The outage: 7 samples time out, logged and counted; nobody waits.
	down.Store(true)
	publish(7)
	lost := func() (n int64) {
		for _, v := range pub.Stats().Lost {
			n += v
		}
		return n
	}
	for lost() != 7 {
		if ctx.Err() != nil {
			t.Fatalf("the samples published to a down broker did not time out: %+v", pub.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("the lost samples were not logged at ERROR:\n%s", logs.String())
	}
	// Recovery, then a clean stop.
	down.Store(false)
	publish(5)
	if err := pub.Wait(ctx); err != nil {
		t.Fatalf("clean stop after a recovered outage: Wait = %v, want nil", err)
	}
	if st := pub.Stats(); st.Samples != 5 || lost() != 7 {
		t.Fatalf("stats %+v, want 5 samples produced and the 7 lost still counted", st)
	}

	// The broker goes down again: the final flush's 13 samples time out
	// while Wait waits.
	down.Store(true)
	publish(13)
	err = pub.Wait(ctx)
	if err == nil || !strings.Contains(err.Error(), "13 samples") || !strings.Contains(err.Error(), "samples") ||
		strings.Contains(err.Error(), "20 samples") {
		t.Fatalf("final flush timing out: Wait = %v, want an error naming topic samples and its 13 samples", err)
	}
	if !strings.Contains(err.Error(), "topic samples") {
		t.Fatalf("Wait = %v, want the topic named", err)
	}

	// Still down, and the stop's deadline ends the wait before the
	// records time out: they are reported as not acknowledged.
	publish(3)
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	err = pub.Wait(short)
	if err == nil || !strings.Contains(err.Error(), "3 samples") || !strings.Contains(err.Error(), "topic samples") ||
		!errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stop deadline with the broker down: Wait = %v, want 3 samples of topic samples not acknowledged", err)
	}
}

// TestWaitErrorIsOneLine: a stop that both lost samples (a row too large
// for the limit) and still had samples unacknowledged when its deadline
// came returns one error on one line, naming both, with the wait's
// deadline still found by errors.Is: collectors.Run returns it as the
// process's error, and errors.Join spread it over two lines.
func TestWaitErrorIsOneLine(t *testing.T) {
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1")) // no broker: nothing is ever acknowledged
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pub, err := New(cl, Config{Topic: "samples", MaxBatchBytes: MinMaxBatchBytes},
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ctx := context.Background()
	mark := pub.Mark()
	publish := func(str string) {
		t.Helper()
		b := NewBatch(memory.NewGoAllocator(), "dev", schemas.SourceGNMI)
		defer b.Release()
		b.AppendState(time.Now().UnixNano(), b.MetricIndex("/m"), b.KeysIndex(""), str)
		rec := b.NewRecord()
		defer rec.Release()
		if err := pub.Publish(ctx, "dev", rec); err != nil {
			t.Fatal(err)
		}
	}
	publish(strings.Repeat("x", 2*MinMaxBatchBytes)) // too_large: lost
	publish("UP")                                    // never acknowledged
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	err = pub.WaitSince(short, mark)
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Fatalf("WaitSince = %q, want an error on one line", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "publish: 1 samples lost") || !strings.Contains(msg, "; 1 samples for topic samples not acknowledged") ||
		!errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitSince = %q, want the lost and the unacknowledged samples named, and the deadline wrapped", msg)
	}
}
