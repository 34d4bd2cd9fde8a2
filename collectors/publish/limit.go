package publish

import (
	"context"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/kafka"
)

// recordOverhead is what a record adds to its encoded value in a record
// batch (batch header, record framing, key, headers), with room to spare.
const recordOverhead = 16 << 10

// producerBatchMax is franz-go's default ProducerBatchMaxBytes.
const producerBatchMax = 1_000_012

// TopicMaxMessageBytes returns the effective max.message.bytes of topic
// (the topic's own setting or the broker default it inherits), as the
// broker reports it.
//
// A topic created a moment ago may not be known yet to the broker that
// answers: it asks again while so (kafka.RetryFreshTopic).
func TopicMaxMessageBytes(ctx context.Context, cl *kgo.Client, topic string) (int, error) {
	var rc kadm.ResourceConfig
	err := kafka.RetryFreshTopic(ctx, func() error {
		rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, topic)
		if err == nil {
			rc, err = rcs.On(topic, nil)
		}
		if err == nil {
			err = rc.Err
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("cannot describe topic %s: %w", topic, err)
	}
	for _, c := range rc.Configs {
		if c.Key == "max.message.bytes" && c.Value != nil {
			n, err := strconv.Atoi(*c.Value)
			if err != nil {
				return 0, fmt.Errorf("cannot read max.message.bytes of %s: %w", topic, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("cannot describe topic %s: the broker did not report max.message.bytes", topic)
}

// BatchBytesFor returns the largest encoded record value that fits a topic
// whose max.message.bytes is topicMax, produced by a client with the
// default ProducerBatchMaxBytes: the smaller of the two, less the record's
// framing; never below MinMaxBatchBytes.
func BatchBytesFor(topicMax int) int {
	return max(min(topicMax, producerBatchMax)-recordOverhead, MinMaxBatchBytes)
}
