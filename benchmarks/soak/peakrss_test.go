package main

import (
	"context"
	"os"
	"runtime/debug"
	"testing"
	"time"
)

// fakeRunEnv makes this test binary, started as `BIN run -c FILE`, stand
// in for telekernel: it touches fakeRunBytes, frees them, and exits a
// little later.
const (
	fakeRunEnv   = "TK_SOAK_FAKE_RUN"
	fakeRunBytes = 256 << 20
)

func TestMain(m *testing.M) {
	if os.Getenv(fakeRunEnv) != "" {
		b := make([]byte, fakeRunBytes)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		b = nil
		debug.FreeOSMemory()
		time.Sleep(1500 * time.Millisecond)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestEmbeddedDayPeakBetweenSamples: the peak RSS that EmbeddedDay (and
// so TestEmbeddedDay's 1 GiB bound and `soak --day`'s printed "peak RSS")
// reports is the process's largest resident set, also when it came and
// went between two samples: a process that holds 256 MB for a moment
// and then frees them has a peak of at least 256 MB. Before, the peak was
// the largest of the RSS samples taken every `every`, so it reported the
// few MB seen at the samples.
func TestEmbeddedDayPeakBetweenSamples(t *testing.T) {
	t.Setenv(fakeRunEnv, "1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := EmbeddedDay(ctx, os.Args[0], t.TempDir(), time.Hour, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak %.1f MB over %d samples", mb(res.Peak), len(res.Samples))
	if res.Peak < fakeRunBytes {
		t.Errorf("peak RSS %.1f MB, the process held %d MB", mb(res.Peak), fakeRunBytes>>20)
	}
}
