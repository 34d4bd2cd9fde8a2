package main

import (
	"reflect"
	"testing"

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
