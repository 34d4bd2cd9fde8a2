package backtest

import (
	"testing"

	"github.com/telekernel/telekernel/backtest/nab"
	"github.com/telekernel/telekernel/backtest/nab/nabtest"
	"github.com/telekernel/telekernel/detectors/ensemble"
	"github.com/telekernel/telekernel/stages/detect"
)

// TestGaugeStateBytes: the detect stage's ensemble of a gauge (every
// default gauge member, the repeat rule) keeps at most 4 KB of detector
// state after each NAB series, the largest of the default ensembles
// (issue 12's bound; detectors/README.md: 4 056 B on NAB's largest since
// the density member).
func TestGaugeStateBytes(t *testing.T) {
	data, _ := nabtest.Data(t)
	series, err := nab.LoadCorpus(data)
	if err != nil {
		t.Fatal(err)
	}
	sh, err := ensemble.NewShared(detect.Config{}.WithDefaults().EnsembleConfig("value", false))
	if err != nil {
		t.Fatal(err)
	}
	most, which := 0, ""
	for _, s := range series {
		e := sh.New()
		for i, x := range s.Values {
			e.Update(s.Times[i].UnixNano(), x)
		}
		if n := e.StateBytes(); n > most {
			most, which = n, s.Name
		}
	}
	t.Logf("largest: %d B (%s)", most, which)
	if most > 4096 {
		t.Errorf("%s keeps %d B of detector state, more than 4 KB", which, most)
	}
}
