package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestReadAllPassesAnOpenTransaction: a transaction open when ReadAll is
// called (a stage's, mid-interval) does not hold it: ReadAll reads to the
// last stable offset as of the call and returns the records committed
// before it. It read to the high watermark, which a read-committed fetch
// reaches only once the transaction ends: up to the transaction timeout.
func TestReadAllPassesAnOpenTransaction(t *testing.T) {
	_, kc, ctx := readAllCluster(t, 1)
	plain, err := Connect(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("committed")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	txn, err := Connect(ctx, kc, kgo.TransactionalID("open"), kgo.TransactionTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txn.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("open")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	var got []string
	err = ReadAll(rctx, kc, "t", func(r *kgo.Record) { got = append(got, string(r.Value)) })
	if err != nil {
		t.Fatalf("ReadAll with a transaction open: %v", err)
	}
	if len(got) != 1 || got[0] != "committed" {
		t.Errorf("ReadAll gave %q, want the committed record alone", got)
	}
}
