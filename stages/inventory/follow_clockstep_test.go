package inventory

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// crashProducer writes the first half of the records of one ProduceSync
// and fails the rest: the process died between a flush's produce
// requests.
type crashProducer struct{ cl *kgo.Client }

func (p *crashProducer) ProduceSync(ctx context.Context, rs ...*kgo.Record) kgo.ProduceResults {
	half := len(rs) / 2
	res := p.cl.ProduceSync(ctx, rs[:half]...)
	for _, r := range rs[half:] {
		res = append(res, kgo.ProduceResult{Record: r, Err: errors.New("killed")})
	}
	return res
}

// TestFollowAfterRestartWithClockBehind: an inventory stage that dies in
// the middle of a flush, on a host whose clock ran an hour ahead (set
// right before the restart, or the stage restarted on another host an
// hour behind), leaves a flush read in part; the restarted stage's whole
// flush, numbered lower but written after it in the same partition, is
// taken by a follower that read the unfinished one, as "a flush the stage
// never finished is taken with the next flush" (Follow) says. Before, the
// follower waited for the rest of the unfinished flush, whose sequence
// number (the wall clock when it began) is larger than the restarted
// stage's, and ignored every later flush until the wall clock passed it:
// the view kept the old inventory for an hour.
func TestFollowAfterRestartWithClockBehind(t *testing.T) {
	inv, f, v := followedFleet(t)
	model := func(m string) *View {
		t.Helper()
		inv2 := Normalize(inv)
		for i := range inv2.Devices {
			inv2.Devices[i].Model = m
		}
		return Fixed(inv2)
	}
	// The stage that dies: its clock an hour ahead of the next one's.
	dying, err := New(Config{Topic: f.topic}, model("crashed"), &crashProducer{cl: f.cl}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	dying.Seed(f.records())
	dying.flushSeq = time.Now().Add(time.Hour).UnixNano()
	if _, err := dying.Flush(f.ctx); err == nil {
		t.Fatal("the dying stage's flush did not fail")
	}
	// The restarted stage writes a whole flush.
	st := f.stage(model("7280R3"), slog.New(slog.DiscardHandler))
	if n, err := st.Flush(f.ctx); err != nil || n != len(inv.Devices) {
		t.Fatalf("flush after the restart: %d records, %v", n, err)
	}
	changed := func() (n, of int) {
		got := v.Current(time.Now()).Inv
		if got == nil {
			return 0, 0
		}
		for _, d := range got.Devices {
			if d.Model == "7280R3" {
				n++
			}
		}
		return n, len(got.Devices)
	}
	deadline := time.Now().Add(5 * time.Second)
	for n, _ := changed(); n != len(inv.Devices) && time.Now().Before(deadline); n, _ = changed() {
		time.Sleep(20 * time.Millisecond)
	}
	if n, of := changed(); n != len(inv.Devices) || of != len(inv.Devices) {
		t.Errorf("5 s after the restarted stage's whole flush the view holds %d devices, %d of the flush's model; want all %d", of, n, len(inv.Devices))
	}
}

// toPartition writes every record to one partition of a topic whose
// client partitions by hand.
type toPartition struct {
	out Producer
	p   int32
}

func (p *toPartition) ProduceSync(ctx context.Context, rs ...*kgo.Record) kgo.ProduceResults {
	for _, r := range rs {
		r.Partition = p.p
	}
	return p.out.ProduceSync(ctx, rs...)
}

// TestFollowAfterRestartWithClockBehindInAnotherPartition: as
// TestFollowAfterRestartWithClockBehind, with the unfinished flush in a
// partition the restarted stage's flushes do not write to, and a follower
// that starts after both: the next flush is taken, as every record past
// the end the follower read the topic to was written after the
// unfinished flush. Before, the follower ignored every flush numbered
// below the unfinished one, however long after it was written, and the
// view kept the inventory it read at start until the wall clock passed
// the unfinished flush.
func TestFollowAfterRestartWithClockBehindInAnotherPartition(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "tk.inventory"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	kc := kafka.Config{Brokers: c.ListenAddrs()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kafka.Connect(ctx, kc, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	f := &fixture{t: t, c: c, ctx: ctx, kc: kc, cl: cl, topic: "tk.inventory"}
	inv, _ := fleet(20, 2)
	// stage returns a stage seeded from the topic whose devices are all
	// of model, writing through out to partition p.
	stage := func(model string, out Producer, p int32) *Stage {
		t.Helper()
		inv2 := Normalize(inv)
		for i := range inv2.Devices {
			inv2.Devices[i].Model = model
		}
		st, err := New(Config{Topic: f.topic}, Fixed(inv2), &toPartition{out: out, p: p}, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		st.Seed(f.records())
		return st
	}
	if n, err := stage("7050X3", cl, 1).Flush(ctx); err != nil || n != len(inv.Devices) {
		t.Fatalf("first flush: %d records, %v", n, err)
	}
	// The stage that dies, its clock an hour ahead, in partition 0.
	dying := stage("crashed", &crashProducer{cl: cl}, 0)
	dying.flushSeq = time.Now().Add(time.Hour).UnixNano()
	if _, err := dying.Flush(ctx); err == nil {
		t.Fatal("the dying stage's flush did not fail")
	}
	// The restarted stage, in partition 1.
	if n, err := stage("7280R3", cl, 1).Flush(ctx); err != nil || n != len(inv.Devices) {
		t.Fatalf("flush after the restart: %d records, %v", n, err)
	}
	v := Fixed(nil)
	fctx, fcancel := context.WithCancel(ctx)
	defer fcancel()
	if err := Follow(fctx, kc, f.topic, v, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	// models counts the devices of the view's inventory of model m.
	models := func(m string) (n, of int) {
		got := v.Current(time.Now()).Inv
		if got == nil {
			return 0, 0
		}
		for _, d := range got.Devices {
			if d.Model == m {
				n++
			}
		}
		return n, len(got.Devices)
	}
	if n, of := models("7280R3"); n != len(inv.Devices) || of != len(inv.Devices) {
		t.Fatalf("after the first read the view holds %d devices, %d of the restarted stage's model; want all %d", of, n, len(inv.Devices))
	}
	// The restarted stage's next flush.
	if n, err := stage("7800R3", cl, 1).Flush(ctx); err != nil || n != len(inv.Devices) {
		t.Fatalf("next flush: %d records, %v", n, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for n, _ := models("7800R3"); n != len(inv.Devices) && time.Now().Before(deadline); n, _ = models("7800R3") {
		time.Sleep(20 * time.Millisecond)
	}
	if n, of := models("7800R3"); n != len(inv.Devices) || of != len(inv.Devices) {
		t.Errorf("5 s after the next flush the view holds %d devices, %d of its model; want all %d", of, n, len(inv.Devices))
	}
}
