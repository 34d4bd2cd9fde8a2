package gnmi

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/telekernel/telekernel/collectors/publish"
)

func protoMarshal(m proto.Message) ([]byte, error) { return proto.Marshal(m) }

// resetDedup forgets the last timestamps (the series' and the stream's), so a benchmark can replay
// responses.
func (d *Decoder) resetDedup() {
	for _, se := range d.canon {
		se.lastTS = sentinelTS
	}
	d.clock = sentinelTS
}

// FakePublisher returns a publisher to an in-process broker (kfake) with
// one topic, "samples"; both test packages use it.
func FakePublisher(t *testing.T) *publish.Publisher {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(1, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	pub, err := publish.New(cl, publish.Config{Topic: "samples"})
	if err != nil {
		t.Fatal(err)
	}
	return pub
}
