package pipeline

import (
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestFatalKafka(t *testing.T) {
	f := func(err error, fatal bool) {
		t.Helper()
		if got := fatalKafka(err) != ""; got != fatal {
			t.Errorf("fatalKafka(%v) fatal = %v, want %v", err, got, fatal)
		}
	}
	// The broker away, a commit of unknown outcome, a producer left failed,
	// a fenced session: a new session gets past them.
	f(errors.New("unable to dial: dial tcp 127.0.0.1:9092: connect: connection refused"), false)
	f(fmt.Errorf("end transaction: %w", kerr.CoordinatorNotAvailable), false)
	f(fmt.Errorf("end transaction: %w", kerr.InvalidProducerEpoch), false)
	f(fmt.Errorf("end transaction: %w", kerr.ProducerFenced), false)
	f(fmt.Errorf("produce to x: %w", kerr.UnknownTopicOrPartition), false)
	// Credentials, permissions, sizes and the broker's bounds: no retry helps.
	f(fmt.Errorf("begin transaction: %w", kerr.TransactionalIDAuthorizationFailed), true)
	f(fmt.Errorf("produce to x: %w", kerr.TopicAuthorizationFailed), true)
	f(fmt.Errorf("end transaction: %w", kerr.GroupAuthorizationFailed), true)
	f(kerr.SaslAuthenticationFailed, true)
	f(fmt.Errorf("produce to x: %w", kerr.MessageTooLarge), true)
	f(fmt.Errorf("begin transaction: %w", kerr.InvalidTransactionTimeout), true)
}
