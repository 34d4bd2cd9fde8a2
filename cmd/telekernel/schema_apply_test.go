package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/sinks/clickhouse"
)

// TestSchemaApplyTwice runs `schema apply` twice against the real server:
// the first run creates everything, the second changes nothing.
func TestSchemaApplyTwice(t *testing.T) {
	addr := testenv.Service(t, "TK_CLICKHOUSE")
	db := "tk_test_apply_" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if s, err := clickhouse.New(ctx, clickhouse.Config{Addr: []string{addr}, Database: db}); err == nil {
			_ = s.DropDatabase(ctx)
			s.Close()
		}
	})
	run := func() string {
		t.Helper()
		var out, errw bytes.Buffer
		cmd := newSchemaApplyCmd()
		cmd.SetOut(&out)
		cmd.SetErr(&errw)
		cmd.SetArgs([]string{"--addr", addr, "--database", db})
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("schema apply: %v\n%s", err, errw.String())
		}
		t.Logf("schema apply:\n%s", out.String())
		return out.String()
	}
	first := run()
	want := "created: detections, incident_members, incidents, inventory, inventory_links, maintenance, power, samples, samples_1h, samples_1h_mv, samples_1m, samples_1m_mv, schema_version\n"
	if !strings.Contains(first, want) {
		t.Errorf("first run:\n%s\nwant the line %q", first, want)
	}
	if second := run(); !strings.Contains(second, "up to date") {
		t.Errorf("second run changed something:\n%s", second)
	}
}
