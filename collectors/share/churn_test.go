package share

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/kafka"
)

// ledger records which member owns each bucket, as the callbacks say, and
// every gain of a bucket another member still owned.
type ledger struct {
	mu     sync.Mutex
	owner  map[int32]string
	double []string
	count  map[string]int // buckets each member owns, as its callbacks say
}

// owns returns how many buckets the member called name owns.
func (l *ledger) owns(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count[name]
}

func (l *ledger) change(name string, c Change) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count == nil {
		l.count = map[string]int{}
	}
	l.count[name] = c.Owned.Len()
	for _, b := range c.Lost {
		if l.owner[b] == name {
			delete(l.owner, b)
		}
	}
	for _, b := range c.Gained {
		if o, ok := l.owner[b]; ok && o != name {
			l.double = append(l.double, fmt.Sprintf("%s gained bucket %d (%s) while %s owned it", name, b, c.Reason, o))
		}
		l.owner[b] = name
	}
}

// TestChurnOnKafka starts and stops members of one group on the real
// broker, one every second or so, for 8 s: no bucket is ever gained by a
// member while another still owns it, and once the churn stops the
// members left cover every bucket, each owning some.
func TestChurnOnKafka(t *testing.T) {
	broker := testenv.Service(t, "TK_KAFKA")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	id := "tk-share-churn-" + hex.EncodeToString(b)
	cfg := Config{Enabled: true, Name: id, Topic: id, Buckets: 32, SessionTimeout: 6 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l := &ledger{owner: map[int32]string{}}
	live := map[string]*Group{}
	n := 0
	start := func() {
		n++
		name := fmt.Sprintf("m%d", n)
		g, err := Join(ctx, kafka.Config{Brokers: []string{broker}}, cfg, "test", func(c Change) { l.change(name, c) },
			WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		live[name] = g
	}
	defer func() {
		for _, g := range live {
			g.Close()
		}
	}()
	start()
	start()
	for t0 := time.Now(); time.Since(t0) < 8*time.Second; {
		time.Sleep(time.Duration(500+mrand.IntN(1000)) * time.Millisecond)
		if len(live) > 1 && (len(live) >= 4 || mrand.IntN(2) == 0) {
			for name, g := range live {
				g.Close()
				delete(live, name)
				break
			}
		} else {
			start()
		}
	}
	for {
		l.mu.Lock()
		per := map[string]int{}
		for _, o := range l.owner {
			per[o]++
		}
		covered := len(l.owner) == int(cfg.Buckets)
		double := l.double
		l.mu.Unlock()
		for _, d := range double {
			t.Error(d)
		}
		if len(double) > 0 {
			return
		}
		idle := false
		for name := range live {
			idle = idle || per[name] == 0
		}
		if covered && !idle {
			t.Logf("%d members started, %d left owning %v", n, len(live), per)
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("the %d members left own %v of %d buckets", len(live), per, cfg.Buckets)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
