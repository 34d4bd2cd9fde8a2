package main

import (
	"net"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/telekernel/telekernel/app"
)

// TestFlagErrorsNameTheFlag: a bad value given by a flag is an error
// naming that flag, not the config key it sets. Before, `--http 9464` said
// `flags: http.listen: "9464" is not host:port`, `--data FILE` said
// `flags: parquet.root: …`, and a taken --http port said "set http.listen
// to a free address" (in run, stage and sim), none of them the flag that
// was typed.
func TestFlagErrorsNameTheFlag(t *testing.T) {
	wantOneLineError(t, `--http: "9464" is not host:port (e.g. 127.0.0.1:9464) or off`, "run", "--http", "9464", "--no-tui")
	file := writeFile(t, "file", "")
	wantOneLineError(t, "--data: "+file+" is not a folder ("+file+" is a file)", "run", "--data", file, "--http", "off", "--no-tui")
	// A folder that cannot be made names itself, and where it could not
	// be: before, "cannot write in /proc" alone.
	if code, _, stderr := tk(t, "run", "--data", "/proc/nope/x", "--http", "off", "--no-tui"); code != 1 ||
		!strings.HasPrefix(stderr, "telekernel: --data: cannot create /proc/nope/x: cannot write in /proc: ") {
		t.Errorf("--data /proc/nope/x: exit %d, stderr %q; want 1 and the folder asked for named", code, stderr)
	}
	wantOneLineError(t, `--kafka: "a b:1" is not host:port`, "run", "--kafka", "a b:1", "--http", "off", "--no-tui")
	wantOneLineError(t, `--clickhouse: "nope" is not host:port`, "run", "--clickhouse", "nope", "--http", "off", "--data", t.TempDir(), "--no-tui")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	wantOneLineError(t, "--http: cannot listen on "+addr+": bind: address already in use (give --http a free address, or off)",
		"run", "--http", addr, "--data", t.TempDir(), "--for", "1s", "--no-tui")
	// stage and sim take --http too: before, theirs said "set http.listen".
	wantOneLineError(t, "--http: cannot listen on "+addr+": bind: address already in use (give --http a free address, or off)",
		"stage", "detect", "--kafka", "127.0.0.1:1", "--http", addr)
	wantOneLineError(t, "--http: cannot listen on "+addr+": bind: address already in use (give --http a free address, or off)",
		"sim", "--kafka", "127.0.0.1:1", "--http", addr, "--for", "1s")
	// collect's --http as well (the file's collect.http.listen is not where
	// the address came from).
	cluster, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	collect := writeFile(t, "collect.yaml", "kafka:\n  brokers: ["+cluster.ListenAddrs()[0]+"]\ncollect:\n  gnmi:\n    subscriptions:\n      - {name: c, paths: [/interfaces], sample_interval: 10s}\n    targets:\n      - {name: r1, address: \"127.0.0.1:1\"}\n")
	if code, _, stderr := tk(t, "collect", "gnmi", "-c", collect, "--http", addr); code != 1 ||
		!strings.HasSuffix(stderr, "\ntelekernel: --http: cannot listen on "+addr+": bind: address already in use (give --http a free address, or off)\n") {
		t.Errorf("collect --http %s taken: exit %d, stderr %q; want 1 and the error naming --http", addr, code, stderr)
	}
	// The address of a file is the file's to change.
	cfg := writeFile(t, "tk.yaml", "http:\n  listen: "+addr+"\n")
	if code, _, stderr := tk(t, "run", "-c", cfg, "--data", t.TempDir(), "--for", "1s", "--no-tui"); code != 1 || !strings.Contains(stderr, "set http.listen to a free address") {
		t.Errorf("a taken http.listen of the file: exit %d, stderr %q; want the error naming http.listen", code, stderr)
	}
}

// TestCLIMistakesInOneLine: a mistyped command, flag or flag value is one
// clean line with a suggestion. Before, `runn` printed cobra's "Did you
// mean this?" block joined by "; ", `--dvices` had no suggestion, and
// `--for 60` said `invalid argument "60" for "--for" flag: time: missing
// unit in duration "60"`.
func TestCLIMistakesInOneLine(t *testing.T) {
	wantOneLineError(t, `unknown command "runn" for "telekernel" (did you mean run?)`, "runn")
	wantOneLineError(t, `unknown command "frobnicate" for "telekernel"`, "frobnicate")
	// A subcommand's, with its own suggestions: before, `schema ddll`
	// printed the schema help and exited 0.
	wantOneLineError(t, `unknown command "ddll" for "telekernel schema" (did you mean ddl?)`, "schema", "ddll")
	wantOneLineError(t, `unknown command "nabb" for "telekernel eval" (did you mean nab?)`, "eval", "nabb")
	wantOneLineError(t, "unknown flag: --dvices (did you mean --devices?)", "run", "--dvices", "5")
	wantOneLineError(t, "unknown flag: --fr (did you mean --for?)", "stage", "detect", "--fr", "1s")
	wantOneLineError(t, "unknown flag: --frobnicate", "run", "--frobnicate")
	wantOneLineError(t, `--for: "60" is not a duration: give a unit, e.g. 60s`, "run", "--for", "60")
	wantOneLineError(t, `--for: "soon" is not a duration (e.g. 60s)`, "run", "--for", "soon")
	wantOneLineError(t, `--devices: "ten" is not an integer`, "run", "--devices", "ten")
}

// TestCheckPrintsEachErrorOnItsLine: check prints each error of a file on
// a line of its own, as the README says. Before, several errors were
// joined by "; " on one line.
func TestCheckPrintsEachErrorOnItsLine(t *testing.T) {
	p := writeFile(t, "bad.yaml", "kafka:\n  brokerz: [x]\nclickhouse:\n  adr: [x:1]\n")
	code, out, stderr := tk(t, "check", "-c", p)
	want := "telekernel: " + p + ":2: kafka.brokerz: unknown field (did you mean brokers?)\n" +
		"telekernel: " + p + ":4: clickhouse.adr: unknown field (did you mean addr?)\n"
	if code != 1 || out != "" || stderr != want {
		t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 1 and:\n%s", code, out, stderr, want)
	}
}

// TestClickHouseHelpNamesItsTables: the --clickhouse help names every table
// the ClickHouse stages write. Before, it said "writes samples and
// detections", leaving out power, maintenance, incidents and inventory.
func TestClickHouseHelpNamesItsTables(t *testing.T) {
	for _, cmd := range []string{"run", "stage"} {
		_, out, _ := tk(t, cmd, "--help")
		var line string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "--clickhouse ") {
				line = l
			}
		}
		want := []string{"inventory"} // written with the incidents (app/incidentsout.go)
		for _, d := range app.Stages {
			if d.Select == "clickhouse" {
				want = append(want, strings.TrimPrefix(d.Name, "clickhouse-"))
			}
		}
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("%s --help: the --clickhouse line does not name %s: %q", cmd, w, line)
			}
		}
	}
}

// wantOneLineError runs telekernel with args and wants it to exit 1 with
// want, after "telekernel: ", as the one line on stderr.
func wantOneLineError(t *testing.T, want string, args ...string) {
	t.Helper()
	code, _, stderr := tk(t, args...)
	if code != 1 || stderr != "telekernel: "+want+"\n" {
		t.Errorf("%q: exit %d, stderr %q; want 1, %q", args, code, stderr, "telekernel: "+want+"\n")
	}
}
