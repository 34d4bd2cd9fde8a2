package inventory

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestFollowPublishesNoPartialFlush: the correlate stage follows the
// inventory topic (Follow) and, once the topic holds records, the live
// inventory replaces its base. The inventory stage writes a whole flush
// (here its first, onto an empty topic: a new topic, an upgrade to a
// release with the stage, inventory.enabled turned on) with one
// ProduceSync, and a consumer fetches at most 1 MiB of a partition at a
// time, so reading this flush takes several polls. The view takes the
// live inventory only once the follower has read every partition to the
// end known at that poll: every inventory it publishes is the whole
// flush, never part of the fleet (whose missing declared devices the
// incident engine would resolve as "device removed from the inventory").
// Before, the follower handed the view whatever each poll brought, so the
// view went through inventories that held only part of the fleet.
func TestFollowPublishesNoPartialFlush(t *testing.T) {
	inv, _ := fleet(3000, 8)
	base := Fixed(inv)
	f := newFixture(t, base, slog.New(slog.DiscardHandler))

	var logs syncBuf
	v := Fixed(inv) // the correlate stage's view: the operator's file
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	if err := Follow(ctx, f.kc, f.topic, v, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))); err != nil {
		t.Fatal(err)
	}
	n, err := f.st.Flush(f.ctx) // the inventory stage's first flush: every device
	if err != nil || n != len(inv.Devices) {
		t.Fatalf("flush: %d records, %v", n, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	re := regexp.MustCompile(`inventory from the topic.* devices=(\d+) links=(\d+)`)
	full := regexp.MustCompile(`inventory from the topic.* links=` + strconv.Itoa(len(inv.Links)) + `\b`)
	for time.Now().Before(deadline) && !full.MatchString(logs.String()) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	ms := re.FindAllStringSubmatch(logs.String(), -1)
	if len(ms) == 0 {
		t.Fatalf("the follower never published; log:\n%s", logs.String())
	}
	for _, m := range ms {
		links, _ := strconv.Atoi(m[2])
		if links != len(inv.Links) {
			t.Errorf("the view took a live inventory of %s devices and %d links from the topic, while the flush being read holds %d devices and %d links (%d publishes in all)",
				m[1], links, len(inv.Devices), len(inv.Links), len(ms))
			break
		}
	}
}

// syncBuf is a bytes.Buffer safe for the follower's goroutine to
// write while the test reads it.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
