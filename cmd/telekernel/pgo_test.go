package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"testing"

	"github.com/telekernel/telekernel/backtest/nab/nabtest"
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

// TestProfiledBuildScoresNAB: this package's tests are built with the
// profile, and eval nab scores what TestNABFit, built without it, holds
// (73.19, 108 firing detections): the profile changes which calls the
// compiler inlines, not what the detectors compute (README, "Profile-guided
// build").
func TestProfiledBuildScoresNAB(t *testing.T) {
	data, labels := nabtest.Data(t)
	code, out, errs := tk(t, "eval", "nab", "--data", data, "--labels", labels)
	if code != 0 {
		t.Fatalf("eval nab: exit %d: %s", code, errs)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`, 108 firing detections\n`),
		regexp.MustCompile(`telekernel +standard +73\.19 `),
	} {
		if !want.MatchString(out) {
			t.Errorf("eval nab of the profiled build: no %q in\n%s", want, out)
		}
	}
}
