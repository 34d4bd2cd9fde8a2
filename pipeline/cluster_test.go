package pipeline

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// newCluster starts an in-process broker with topics of partitions
// partitions, closed when the test ends (closing it earlier is allowed).
func newCluster(t *testing.T, partitions int32, topics ...string) *kfake.Cluster {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.Ports(0), kfake.SeedTopics(partitions, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	return cluster
}
