package main

import (
	"bytes"
	"image/png"
	"os"
	"strings"
	"testing"
)

func TestReportSimulated(t *testing.T) {
	dir := t.TempDir()
	cmd := newReportCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--device", "sim-01", "--out", dir, "--days", "4", "--interval", "10m"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	files := strings.Fields(out.String())
	if len(files) != 2 {
		t.Fatalf("files %v", files)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 500 {
			t.Fatalf("%s is %v", f, b)
		}
	}
	cmd = newReportCmd()
	cmd.SetArgs([]string{"--device", "nope", "--out", dir})
	if err := cmd.Execute(); err == nil {
		t.Fatal("an unknown device made a report")
	}
}
