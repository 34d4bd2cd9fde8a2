package main

import (
	"io"
	"reflect"
	"testing"

	"github.com/spf13/cobra"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/sinks/clickhouse"
)

// TestMergeFlags: `schema apply --config FILE` takes the file's clickhouse
// section, and a flag wins only when it is given (addr, database and
// username also fill what the file leaves empty).
func TestMergeFlags(t *testing.T) {
	file := clickhouse.Config{Addr: []string{"ch:9440"}, Database: "tk", PasswordFile: "/old/pw", Layout: "legacy", TTLDays: 7, Cluster: "c1"}
	flags := clickhouse.Config{Addr: []string{clickhouse.DefaultAddr}, Database: clickhouse.DefaultDatabase, Username: clickhouse.DefaultUsername,
		Password: secret.Source{File: "/new/pw"}, Layout: "auto", TTLDays: 30, Cluster: "c2"}
	none := func(string) bool { return false }
	want := file
	want.Username = clickhouse.DefaultUsername
	if got := mergeFlags(file, flags, none); !reflect.DeepEqual(got, want) {
		t.Errorf("no flags given:\n %+v\nwant\n %+v", got, want)
	}
	all := func(string) bool { return true }
	want = flags
	want.DetectionsTTLDays = 0
	if got := mergeFlags(file, flags, all); !reflect.DeepEqual(got, want) {
		t.Errorf("every flag given:\n %+v\nwant\n %+v", got, want)
	}
}

// TestConfigFlagShorthand: every command that reads a config file takes it
// as -c FILE, as the README and the error messages say.
func TestConfigFlagShorthand(t *testing.T) {
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		if f := c.Flags().Lookup("config"); f != nil {
			n++
			if f.Shorthand != "c" {
				t.Errorf("%s: --config has no -c", c.CommandPath())
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(io.Discard, io.Discard))
	if n < 8 {
		t.Errorf("%d commands take --config; want run, stage, sim, check, collect, eval, report, incidents, schema apply", n)
	}
}
