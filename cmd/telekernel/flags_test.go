package main

import (
	"io"
	"strings"
	"testing"

	"github.com/telekernel/telekernel/app"
	"github.com/telekernel/telekernel/config"
)

// TestFlagsApply: each command lists only the flags that apply to it.
func TestFlagsApply(t *testing.T) {
	f := func(cmd string, has, lacks []string) {
		t.Helper()
		code, out, _ := tk(t, cmd, "--help")
		if code != 0 {
			t.Fatalf("%s --help: exit %d", cmd, code)
		}
		for _, fl := range has {
			if !strings.Contains(out, "--"+fl+" ") {
				t.Errorf("%s --help lacks --%s:\n%s", cmd, fl, out)
			}
		}
		for _, fl := range lacks {
			if strings.Contains(out, "--"+fl+" ") {
				t.Errorf("%s --help lists --%s, which does not apply:\n%s", cmd, fl, out)
			}
		}
	}
	f("run", []string{"config", "for", "kafka", "clickhouse", "data", "http", "speed", "devices", "no-tui"}, nil)
	f("stage", []string{"config", "for", "kafka", "clickhouse", "data", "http"}, []string{"speed", "devices", "no-tui"})
	f("sim", []string{"config", "for", "kafka", "http", "speed", "devices"}, []string{"clickhouse", "data", "no-tui"})
}

// TestDevicesFlag: --devices takes a positive number; 0 is an error, not
// the default.
func TestDevicesFlag(t *testing.T) {
	for _, n := range []string{"0", "-3"} {
		code, _, errOut := tk(t, "run", "--devices", n, "--for", "1ms")
		want := "telekernel: --devices: " + n + " is not a positive number of devices\n"
		if code != 1 || errOut != want {
			t.Errorf("--devices %s: exit %d, stderr %q; want 1, %q", n, code, errOut, want)
		}
	}
}

// TestStatusLine: on a terminal, a log line erases the status line before
// it (else it would follow the status on its line) and draws it again
// after it.
func TestStatusLine(t *testing.T) {
	var b strings.Builder
	s := &statusLine{w: &b}
	logs := s.logs()
	io.WriteString(logs, "before\n")
	io.WriteString(s, "\r  1s  samples 10   ")
	io.WriteString(logs, "level=INFO msg=detection\n")
	io.WriteString(s, "\r  2s  samples 20   ")
	io.WriteString(s, "\n")
	io.WriteString(logs, "after\n")
	want := "before\n" +
		"\r  1s  samples 10   " +
		"\r\x1b[Klevel=INFO msg=detection\n\r  1s  samples 10   " +
		"\r  2s  samples 20   \n" +
		"after\n"
	if got := b.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestRunHelpNamesStages: `run --help` names every stage the embedded
// default runs.
func TestRunHelpNamesStages(t *testing.T) {
	_, out, _ := tk(t, "run", "--help")
	cfg := config.Default()
	for _, d := range app.Stages {
		if d.Enabled != nil && d.Enabled(&cfg) != nil {
			continue
		}
		name := d.Name
		if d.Select != "" {
			name = d.Select
		}
		if !strings.Contains(out, name) {
			t.Errorf("run --help does not name the %s stage, which the default runs", name)
		}
	}
}
