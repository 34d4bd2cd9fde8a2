package collector

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/collectors/publish"
)

// cfg is a configuration whose default N is 1 and which rejects a negative N.
type cfg struct{ N int }

func (c cfg) WithDefaults() cfg {
	if c.N == 0 {
		c.N = 1
	}
	return c
}

func (c cfg) Validate() error {
	if c.N < 0 {
		return errors.New("n: must not be negative")
	}
	return nil
}

type metrics struct{}

// TestNew checks the constructor's defaults, its two errors and the
// parts it fills.
func TestNew(t *testing.T) {
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pub, err := publish.New(cl, publish.Config{Topic: "samples"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := New[cfg, metrics]("x", cfg{N: -1}, pub); err == nil || err.Error() != "x: n: must not be negative" {
		t.Errorf("bad config: %v", err)
	}
	if _, _, err := New[cfg, metrics]("x", cfg{}, nil); err == nil || err.Error() != "x: a publisher is required" {
		t.Errorf("no publisher: %v", err)
	}
	c, b, err := New[cfg, metrics]("x", cfg{}, pub)
	if err != nil {
		t.Fatal(err)
	}
	if c.N != 1 || b.Pub != pub || b.Log == nil || b.Mem == nil || b.Metrics != nil {
		t.Errorf("config %+v, base %+v", c, b)
	}
}
