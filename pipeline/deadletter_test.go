package pipeline

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
)

// recordSize is what a record takes in a batch, roughly as the broker
// counts it.
func recordSize(r *kgo.Record) int {
	return len(r.Key) + len(r.Value) + headersSize(r.Headers)
}

func TestDeadLetterCut(t *testing.T) {
	cause := errors.New("malformed message: " + strings.Repeat("é", 2000))
	f := func(name string, in *kgo.Record, limit int, wantValue int, wantTruncated, wantOrigHeaders bool) {
		t.Helper()
		dl := deadLetter(in, cause, "dlq", "s", limit)
		if recordSize(dl)+recordOverhead > limit {
			t.Errorf("%s: dead letter takes %d bytes, limit %d", name, recordSize(dl)+recordOverhead, limit)
		}
		if len(dl.Value) != wantValue || !bytes.Equal(dl.Value, in.Value[:len(dl.Value)]) {
			t.Errorf("%s: kept %d bytes of the value, want the first %d", name, len(dl.Value), wantValue)
		}
		if got := header(dl, HeaderDLQTruncated) == "true"; got != wantTruncated {
			t.Errorf("%s: truncated header %v, want %v", name, got, wantTruncated)
		}
		if got := header(dl, "orig") == "h"; got != wantOrigHeaders {
			t.Errorf("%s: original headers kept %v, want %v", name, got, wantOrigHeaders)
		}
		if got := header(dl, HeaderDLQOriginalBytes); got != strconv.Itoa(len(in.Value)) {
			t.Errorf("%s: original bytes header %q, want %d", name, got, len(in.Value))
		}
		if r := header(dl, HeaderDLQReason); len(r) > maxDLQReasonBytes || !strings.HasPrefix(r, "malformed message: é") || !utf8Valid(r) {
			t.Errorf("%s: reason header of %d bytes: %.40q", name, len(r), r)
		}
	}
	orig := []kgo.RecordHeader{{Key: "orig", Value: []byte("h")}}
	small := &kgo.Record{Topic: "in", Key: []byte("d1"), Value: []byte("not arrow"), Headers: orig}
	f("small", small, DeadLetterMaxBytes, 9, false, true)
	big := &kgo.Record{Topic: "in", Key: []byte("d1"), Value: bytes.Repeat([]byte{7}, 5<<20), Headers: orig}
	dl := deadLetter(big, cause, "dlq", "s", DeadLetterMaxBytes)
	f("5 MB value", big, DeadLetterMaxBytes, len(dl.Value), true, true)
	if len(dl.Value) < DeadLetterMaxBytes-4<<10 {
		t.Errorf("5 MB value: kept only %d bytes", len(dl.Value))
	}
	f("5 MB value, 4 KiB limit", big, deadLetterMinBytes, len(deadLetter(big, cause, "dlq", "s", deadLetterMinBytes).Value), true, true)
	hugeHeaders := &kgo.Record{Topic: "in", Key: bytes.Repeat([]byte("k"), 5000), Value: []byte("v"),
		Headers: append(append([]kgo.RecordHeader(nil), orig...), kgo.RecordHeader{Key: "x", Value: make([]byte, 1<<20)})}
	f("1 MiB of headers, 5000-byte key", hugeHeaders, DeadLetterMaxBytes, 1, true, false)
}

// TestDeadLetterHeadersWithinLimit: a dead letter keeps the original
// headers only when they fit its limit: 10 KiB of them are kept under
// DeadLetterMaxBytes but dropped (the dead letter marked truncated) under
// the 4 KiB a writer shrinks to when the dead-letter topic rejects a
// record, which they alone would exceed.
func TestDeadLetterHeadersWithinLimit(t *testing.T) {
	rec := &kgo.Record{Topic: "in", Key: []byte("k"), Value: make([]byte, 100)}
	for i := range 10 {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: "h" + strconv.Itoa(i), Value: make([]byte, 1000)})
	}
	f := func(limit int, wantKept bool) {
		t.Helper()
		dl := deadLetter(rec, io.ErrUnexpectedEOF, "dlq", "s", limit)
		if n := recordSize(dl) + recordOverhead; n > limit {
			t.Errorf("limit %d: dead letter takes %d bytes", limit, n)
		}
		if kept := header(dl, "h0") != ""; kept != wantKept {
			t.Errorf("limit %d: original headers kept %v, want %v", limit, kept, wantKept)
		}
		if truncated := header(dl, HeaderDLQTruncated) == "true"; truncated == wantKept {
			t.Errorf("limit %d: truncated header %v, want %v", limit, truncated, !wantKept)
		}
	}
	f(DeadLetterMaxBytes, true)
	f(deadLetterMinBytes, false)
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// failSink is a sink whose Flush always fails. added counts the records
// it was given, for a test to read while Run runs.
type failSink struct {
	countSink
	added atomic.Int64
}

func (f *failSink) Add(ctx context.Context, r *kgo.Record) error {
	err := f.countSink.Add(ctx, r)
	f.added.Add(1)
	return err
}

func (f *failSink) Flush(context.Context) (int, error) {
	return 0, errors.New("sink is down")
}

// TestShutdownWhileFlushFails stops a runner whose sink keeps failing: the
// flush being retried holds the runner's lock, which the final flush used
// to take again (a deadlock). Run must return within FinalFlushTimeout
// with one error that says how many rows it did not flush.
func TestShutdownWhileFlushFails(t *testing.T) {
	cluster := newCluster(t, 1, "in", "dlq")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if err := prod.ProduceSync(ctx, samplesRecord(t, "in", 30, 1e18)).FirstErr(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sink := &failSink{}
	r, err := NewRunner(ctx, kc, RunnerConfig{Name: "failing", Group: "g", Topics: []string{"in"}, DeadLetterTopic: "dlq", FlushInterval: 50 * time.Millisecond},
		sink, NewMetrics(prometheus.NewRegistry()), log)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	for sink.added.Load() == 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // flushes fail and are retried
	stopped := time.Now()
	stop()
	select {
	case err := <-done:
		took := time.Since(stopped)
		if err == nil || !strings.Contains(err.Error(), "stopped without flushing 30 rows") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("Run returned %v; want one line saying 30 rows were not flushed", err)
		}
		if took > FinalFlushTimeout {
			t.Fatalf("Run took %v to stop, bound %v", took, FinalFlushTimeout)
		}
		t.Logf("stopped in %v: %v", took.Round(time.Millisecond), err)
	case <-time.After(FinalFlushTimeout + 5*time.Second):
		t.Fatalf("Run did not return within %v of its context ending (deadlock)", FinalFlushTimeout+5*time.Second)
	}
}

// TestPoisonRecord puts a 5 MB value on a topic of the real Kafka (whose
// max.message.bytes is raised so it can be produced) between good
// messages. Both kinds of stage dead-letter it, cut to the head of its
// value with its original size in a header, on a dead-letter topic with
// the default 1 MB limit, and go on with the next message; the dead-letter
// counts equal the records on the topic. With a dead-letter topic whose
// max.message.bytes is below DeadLetterMaxBytes, the stages cut dead
// letters smaller until the topic takes them.
func TestPoisonRecord(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	t.Run("dlq default limit", func(t *testing.T) { testPoisonRecord(t, broker, 0, 512<<10) })
	t.Run("dlq limit 200000", func(t *testing.T) { testPoisonRecord(t, broker, 200000, 30<<10) })
}

// testPoisonRecord runs TestPoisonRecord with the dead-letter topic's
// max.message.bytes (0: the broker's default); a dead letter must keep at
// least minKept bytes of the value.
func testPoisonRecord(t *testing.T, broker string, dlqLimit, minKept int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	idb := make([]byte, 4)
	_, _ = rand.Read(idb)
	id := hex.EncodeToString(idb)
	in, out, dlq := "poison-"+id+".samples", "poison-"+id+".detections", "poison-"+id+".deadletters"
	kc := kafka.Config{Brokers: []string{broker}}
	prod, err := kafka.Connect(ctx, kc, kgo.ProducerBatchMaxBytes(8<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	adm := kadm.NewClient(prod)
	big := "6291456"
	if _, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{"max.message.bytes": &big}, in); err != nil {
		t.Fatal(err)
	}
	var dlqConfig map[string]*string
	if dlqLimit > 0 {
		v := strconv.Itoa(dlqLimit)
		dlqConfig = map[string]*string{"max.message.bytes": &v}
	}
	if _, err := adm.CreateTopic(ctx, 1, -1, dlqConfig, dlq); err != nil {
		t.Fatal(err)
	}
	if err := kafka.EnsureTopics(ctx, prod, kafka.TopicSpec{Name: out, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = adm.DeleteTopics(context.Background(), in, out, dlq, "poison-"+id+"-detect-changelog") })

	good := samplesRecord(t, in, 30, 1e18)
	poison := &kgo.Record{Topic: in, Key: []byte("d1"), Value: bytes.Repeat([]byte{0xff}, 5<<20), Headers: good.Headers}
	if err := prod.ProduceSync(ctx, good, poison, samplesRecord(t, in, 30, 1e18+300e9)).FirstErr(); err != nil {
		t.Fatalf("cannot produce the 5 MB record: %v", err)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := NewMetrics(prometheus.NewRegistry())
	det := newSeriesProc()
	eos, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "detect", Group: "poison-" + id + "-detect", Input: in, DeadLetterTopic: dlq}, det, m, log)
	if err != nil {
		t.Fatal(err)
	}
	sink := &countSink{}
	alo, err := NewRunner(ctx, kc, RunnerConfig{Name: "count", Group: "poison-" + id + "-count", Topics: []string{in}, DeadLetterTopic: dlq}, sink, m, log)
	if err != nil {
		t.Fatal(err)
	}
	end, err := EndOffsets(ctx, prod, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []Stage{eos, alo} {
		st.DrainTo(end)
		if err := st.Run(ctx); err != nil {
			t.Fatalf("stage stopped on the 5 MB record: %v", err)
		}
		if s := st.Stats(); s.Records != 3 || s.DeadLetters != 1 {
			t.Fatalf("stats %+v, want 3 records, 1 dead letter", s)
		}
	}
	if sink.flushed != 60 {
		t.Fatalf("sink flushed %d rows, want 60 (the good messages around the poison one)", sink.flushed)
	}

	var dead []*kgo.Record
	if err := kafka.ReadAll(ctx, kc, dlq, func(r *kgo.Record) { dead = append(dead, r) }); err != nil {
		t.Fatal(err)
	}
	if len(dead) != 2 {
		t.Fatalf("%d dead letters on %s, want 2 (one per stage)", len(dead), dlq)
	}
	for _, d := range dead {
		if header(d, HeaderDLQOriginalBytes) != strconv.Itoa(5<<20) || header(d, HeaderDLQTruncated) != "true" || header(d, HeaderDLQOffset) != "1" ||
			!strings.Contains(header(d, HeaderDLQReason), "malformed") {
			t.Errorf("dead letter from %s: headers %v", header(d, HeaderDLQStage), d.Headers)
		}
		if len(d.Value) > DeadLetterMaxBytes || len(d.Value) < minKept || !bytes.Equal(d.Value, poison.Value[:len(d.Value)]) {
			t.Errorf("dead letter from %s keeps %d bytes; want the head of the value, at most %d", header(d, HeaderDLQStage), len(d.Value), DeadLetterMaxBytes)
		}
	}
}

// TestDeadLetterRefusedStops: a dead-letter topic the broker refuses to
// take writes for (an ACL missing) stops both kinds of stage with one
// error saying to fix the ACLs, at once. The at-least-once runner retried
// the dead letter for ever, holding its partitions and logging each retry.
func TestDeadLetterRefusedStops(t *testing.T) {
	cluster := newCluster(t, 1, "in", "dlq")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kc := kafka.Config{Brokers: cluster.ListenAddrs()}
	prod, err := kafka.Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	good := samplesRecord(t, "in", 3, 1e18)
	garbage := &kgo.Record{Topic: "in", Value: []byte("not arrow"), Headers: good.Headers}
	if err := prod.ProduceSync(ctx, good, garbage).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cluster.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		// The stages write nothing but dead letters.
		pr := req.(*kmsg.ProduceRequest)
		resp := pr.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range pr.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := NewMetrics(prometheus.NewRegistry())
	eos, err := NewTransactRunner(ctx, kc, TransactConfig{Name: "detect", Group: "g", Input: "in", DeadLetterTopic: "dlq"}, newSeriesProc(), m, log)
	if err != nil {
		t.Fatal(err)
	}
	alo, err := NewRunner(ctx, kc, RunnerConfig{Name: "count", Group: "g2", Topics: []string{"in"}, DeadLetterTopic: "dlq"}, &countSink{}, m, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []Stage{eos, alo} {
		runCtx, stop := context.WithTimeout(ctx, 10*time.Second)
		start := time.Now()
		err := st.Run(runCtx)
		stop()
		if err == nil || !errors.Is(err, kerr.TopicAuthorizationFailed) || !strings.Contains(err.Error(), "fix the credentials or the ACLs") {
			t.Errorf("Run returned %v after %v; want the authorization error, saying to fix the ACLs", err, time.Since(start).Round(time.Millisecond))
			continue
		}
		t.Log(err)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("Run took %v to give up on a refused dead letter", took)
		}
	}
}
