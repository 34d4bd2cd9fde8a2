package kafka

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestReadAllStopsAtEndAsOfCall: ReadAll reads a topic to its end offsets
// as of the call, so a record produced once it listed them is not given
// to fn, neither on a partition it still reads (the fetch that reaches
// the end also carries the newer record) nor on one that was empty. It
// gave them: a record at or past the end, or of a partition already read,
// went to fn.
func TestReadAllStopsAtEndAsOfCall(t *testing.T) {
	cluster, kc, ctx := readAllCluster(t, 2)
	prod, err := Connect(ctx, kc, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "t", Partition: 0, Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// Once ReadAll has listed the end offsets, produce to both partitions;
	// no fetch is answered before that.
	listed, produced := make(chan struct{}), make(chan struct{})
	var listOnce sync.Once
	cluster.ControlKey(int16(kmsg.ListOffsets), func(r kmsg.Request) (kmsg.Response, error, bool) {
		for _, rt := range r.(*kmsg.ListOffsetsRequest).Topics {
			for _, rp := range rt.Partitions {
				if rp.Timestamp == -1 { // latest: the end offsets
					listOnce.Do(func() { close(listed) })
				}
			}
		}
		return nil, nil, false
	})
	cluster.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
		cluster.SleepControl(func() {
			select {
			case <-produced:
			case <-ctx.Done():
			}
		})
		return nil, nil, false
	})
	var produceErr error
	go func() {
		defer close(produced)
		select {
		case <-listed:
		case <-ctx.Done():
			return
		}
		produceErr = prod.ProduceSync(ctx,
			&kgo.Record{Topic: "t", Partition: 0, Value: []byte("after, partition 0")},
			&kgo.Record{Topic: "t", Partition: 1, Value: []byte("after, partition 1")}).FirstErr()
	}()

	var got []string
	if err := ReadAll(ctx, kc, "t", func(r *kgo.Record) { got = append(got, string(r.Value)) }); err != nil {
		t.Fatal(err)
	}
	<-produced
	if produceErr != nil {
		t.Fatal(produceErr)
	}
	if len(got) != 1 || got[0] != "before" {
		t.Errorf("ReadAll gave %q; want only the record produced before the call", got)
	}
}

// readAllCluster starts a one-broker kfake cluster with topic "t" of the
// given partitions and returns it, its connection config and a context
// bounding the test; both end with the test.
func readAllCluster(t *testing.T, partitions int32) (*kfake.Cluster, Config, context.Context) {
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.NumBrokers(1), kfake.SeedTopics(partitions, "t"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return cluster, Config{Brokers: cluster.ListenAddrs()}, ctx
}
