package kafka

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// The waits of RetryFreshTopic: doubling from freshFirstWait while they
// stay within freshMaxWait, about 6 s in all.
const (
	freshFirstWait = 100 * time.Millisecond
	freshMaxWait   = 5 * time.Second
)

// RetryFreshTopic calls fn until it returns nil or an error other than
// those of a topic created a moment ago whose metadata is still spreading
// to the brokers (UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE),
// waiting 100 ms, then twice as long each time, about 6 s in all. It
// returns fn's last error, or the context's when it ends first.
func RetryFreshTopic(ctx context.Context, fn func() error) error {
	for wait := freshFirstWait; ; wait *= 2 {
		err := fn()
		if err == nil || wait > freshMaxWait ||
			!errors.Is(err, kerr.UnknownTopicOrPartition) && !errors.Is(err, kerr.LeaderNotAvailable) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}
