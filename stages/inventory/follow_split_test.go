package inventory

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/schemas"
)

// splitProducer writes the records of one ProduceSync in two halves and
// calls between before the second: a flush whose produce requests land
// apart (one retried after a broker error, a broker slow under load).
type splitProducer struct {
	cl      *kgo.Client
	between func()
}

func (p *splitProducer) ProduceSync(ctx context.Context, rs ...*kgo.Record) kgo.ProduceResults {
	half := len(rs) / 2
	res := p.cl.ProduceSync(ctx, rs[:half]...)
	if res.FirstErr() != nil {
		return res
	}
	p.between()
	return append(res, p.cl.ProduceSync(ctx, rs[half:]...)...)
}

// followedFleet returns a fleet of 20 devices, a fixture whose stage has
// flushed it once, and a view following the topic (until the test ends)
// that has read that flush.
func followedFleet(t *testing.T) (*schemas.Inventory, *fixture, *View) {
	t.Helper()
	inv, _ := fleet(20, 2)
	f := newFixture(t, Fixed(inv), slog.New(slog.DiscardHandler))
	if n, err := f.st.Flush(f.ctx); err != nil || n != len(inv.Devices) {
		t.Fatalf("first flush: %d records, %v", n, err)
	}
	v := Fixed(nil)
	ctx, cancel := context.WithCancel(f.ctx)
	t.Cleanup(cancel)
	if err := Follow(ctx, f.kc, f.topic, v, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	return inv, f, v
}

// TestFollowWaitsForTheWholeFlush: a flush whose second half reaches the
// broker more than recheck after its first (the follower has read the
// first half, a poll of recheck brought nothing, and the topic's end is
// where it has read) is not taken in part: the view keeps the inventory
// of the last whole flush until it has read every record of the new one.
// Before, the follower published after the quiet poll, and the view took
// an inventory in which half the devices had changed (with a flush that
// removes devices, the incident engine would resolve their incidents as
// "device removed from the inventory").
func TestFollowWaitsForTheWholeFlush(t *testing.T) {
	inv, f, v := followedFleet(t)
	// changed counts the devices of the view's inventory that carry the
	// second flush's model.
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
	if n, of := changed(); n != 0 || of != len(inv.Devices) {
		t.Fatalf("after the first read the view holds %d devices, %d changed; want %d, none changed", of, n, len(inv.Devices))
	}

	// Every device changes model: the second flush rewrites every record.
	inv2 := Normalize(inv)
	for i := range inv2.Devices {
		inv2.Devices[i].Model = "7280R3"
	}
	gen := v.Current(time.Now()).Gen
	var partial []int // devices changed in an inventory the view took between the halves
	between := func() {
		// Until the view takes something, or well past recheck.
		for deadline := time.Now().Add(3 * recheck); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if v.Current(time.Now()).Gen != gen {
				n, _ := changed()
				partial = append(partial, n)
				return
			}
		}
	}
	st, err := New(Config{Topic: f.topic}, Fixed(inv2), &splitProducer{cl: f.cl, between: between}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	st.Seed(f.records())
	if n, err := st.Flush(f.ctx); err != nil || n != len(inv.Devices) {
		t.Fatalf("second flush: %d records, %v", n, err)
	}
	if len(partial) > 0 {
		t.Errorf("while the flush was half written the view took an inventory with %d of %d devices changed", partial[0], len(inv.Devices))
	}
	deadline := time.Now().Add(10 * time.Second)
	for n, _ := changed(); n != len(inv.Devices) && time.Now().Before(deadline); n, _ = changed() {
		time.Sleep(20 * time.Millisecond)
	}
	if n, of := changed(); n != len(inv.Devices) || of != len(inv.Devices) {
		t.Errorf("after the whole flush the view holds %d devices, %d changed; want all %d changed", of, n, len(inv.Devices))
	}
}
