package inventory

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// TestFollowStartsPastAnOpenTransaction: Follow's first read ends at what
// a read-committed consumer can reach when it is called (the last stable
// offsets), so a transaction left open on the inventory topic (its
// producer died mid-flush) does not hold the correlate stage's start, and
// the view takes the inventory committed before it. Before, the first read
// waited for the high watermark, which a read-committed consumer reaches
// only when the transaction ends: up to the transaction timeout.
func TestFollowStartsPastAnOpenTransaction(t *testing.T) {
	inv, _ := fleet(20, 2)
	f := newFixture(t, Fixed(inv), slog.New(slog.DiscardHandler))
	if n, err := f.st.Flush(f.ctx); err != nil || n != len(inv.Devices) {
		t.Fatalf("flush: %d records, %v", n, err)
	}
	txn, err := kafka.Connect(f.ctx, f.kc, kgo.TransactionalID("inventory-died"), kgo.TransactionTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txn.ProduceSync(f.ctx, &kgo.Record{Topic: f.topic, Key: []byte("device/open"), Value: []byte("{}")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	v := Fixed(nil)
	ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := Follow(ctx, f.kc, f.topic, v, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("Follow with a transaction open on the topic, after %v: %v", time.Since(start).Round(time.Millisecond), err)
	}
	if got := v.Current(time.Now()).Inv; got == nil || len(got.Devices) != len(inv.Devices) {
		t.Errorf("the view holds %v after the first read, want the %d committed devices", got, len(inv.Devices))
	}
}
