package nab

import (
	"sync"
	"testing"

	"github.com/telekernel/telekernel/backtest/nab"
	"github.com/telekernel/telekernel/backtest/nab/nabtest"
)

// subset is the NAB subset, read once per test binary.
var subset struct {
	once sync.Once
	c    *nab.Corpus
	err  error
}

// loadCorpus returns the NAB subset, skipping when it is absent (see
// nabtest.Dir).
func loadCorpus(t testing.TB) *nab.Corpus {
	data, labels := nabtest.Data(t)
	subset.once.Do(func() { subset.c, subset.err = nab.Load(data, labels) })
	if subset.err != nil {
		t.Fatal(subset.err)
	}
	return subset.c
}
