package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// TestBuiltWithProfile: the binary is built with profile-guided
// optimisation from default.pgo (go build's -pgo=auto), as `go test` builds
// this package too, and each benchmark that times the product builds from
// the same profile (a link to it), so the figures it prints are the
// shipped binary's. A profile the compiler could not read would fail the
// build, not this test.
func TestBuiltWithProfile(t *testing.T) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build information in the test binary")
	}
	pgo := ""
	for _, s := range info.Settings {
		if s.Key == "-pgo" {
			pgo = s.Value
		}
	}
	if filepath.Base(pgo) != "default.pgo" {
		t.Fatalf("built with -pgo=%q, want this folder's default.pgo (go build -pgo=auto)", pgo)
	}
	want, err := os.ReadFile("default.pgo")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"detect", "collectors", "latency"} {
		p := filepath.Join("..", "..", "benchmarks", dir, "default.pgo")
		got, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v (it should link to cmd/telekernel/default.pgo)", p, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not cmd/telekernel/default.pgo: the benchmark would time another build than the shipped one", p)
		}
	}
}
