package kafka

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// TestRetryFreshTopic: a topic unknown for two calls is read on the
// third; another error ends it at once; a topic that stays unknown ends
// it with that error after the waits (7 calls); a context that ends stops
// the waits.
func TestRetryFreshTopic(t *testing.T) {
	calls := 0
	err := RetryFreshTopic(t.Context(), func() error {
		if calls++; calls < 3 {
			return fmt.Errorf("describe: %w", kerr.UnknownTopicOrPartition)
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Errorf("unknown twice: %v after %d calls, want nil after 3", err, calls)
	}
	calls = 0
	denied := fmt.Errorf("describe: %w", kerr.TopicAuthorizationFailed)
	if err := RetryFreshTopic(t.Context(), func() error { calls++; return denied }); err != denied || calls != 1 {
		t.Errorf("denied: %v after %d calls, want it after 1", err, calls)
	}
	if testing.Short() {
		return
	}
	calls = 0
	err = RetryFreshTopic(t.Context(), func() error { calls++; return kerr.LeaderNotAvailable })
	if !errors.Is(err, kerr.LeaderNotAvailable) || calls != 7 {
		t.Errorf("never known: %v after %d calls, want LEADER_NOT_AVAILABLE after 7", err, calls)
	}
	ctx, cancel := context.WithCancel(t.Context())
	calls = 0
	err = RetryFreshTopic(ctx, func() error { calls++; cancel(); return kerr.UnknownTopicOrPartition })
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("cancelled: %v after %d calls, want context.Canceled after 1", err, calls)
	}
}
