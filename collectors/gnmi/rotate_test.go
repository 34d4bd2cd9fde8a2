package gnmi_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/collectors/sim/agent"
	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/testenv"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// A gNMI password file is read again at every subscription attempt: after
// the device took a new password and dropped the stream, the collector's
// attempts are refused (Unauthenticated) until the file is rewritten, and
// the next attempt then subscribes, without a restart. A file removed
// meanwhile keeps the value read before, with one warning naming the field
// and the file; no value is logged.
func TestPasswordFileRotation(t *testing.T) {
	const user = "tk-collector"
	pki, err := agent.NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := newAgent(t, 1, agent.Config{Username: user, Password: "old-gnmi-pass"}, agent.WithTLS(pki.ServerTLS(false)))
	p := filepath.Join(t.TempDir(), "gnmi-pw")
	write := func(v string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("old-gnmi-pass\n")
	tg := targetsOf(a, tlsfiles.Config{Enabled: true, CAFile: pki.CAFile})
	tg[0].Username, tg[0].Password = user, secret.Source{File: p}
	logs := &testenv.LogBuffer{}
	c, stop := runCollector(t, fastConfig(tg), fakeKafka(t), slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	waitFor(t, 10*time.Second, "the first subscription", func() bool { return c.Stats().Connects == 1 })

	// The device rotates; its reboot ends the stream.
	a.SetPassword("new-gnmi-pass")
	name := tg[0].Name
	if err := a.Stop(name); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(name); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "a refused attempt", func() bool { return strings.Contains(logs.String(), "Unauthenticated") })
	if err := os.Remove(p); err != nil { // mid-rotation: the file is briefly gone
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the warning about the missing file", func() bool {
		return strings.Contains(logs.String(), "cannot read the secret file again")
	})
	write("new-gnmi-pass\n")
	waitFor(t, 10*time.Second, "a subscription with the new password", func() bool { return c.Stats().Connects == 2 })
	stop()
	out := logs.String()
	if n := strings.Count(out, "cannot read the secret file again"); n != 1 {
		t.Errorf("%d warnings for the missing file, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "field=gnmi.targets["+name+"].password file="+p) {
		t.Errorf("the warning does not name the field and the file:\n%s", out)
	}
	if strings.Contains(out, "gnmi-pass") {
		t.Errorf("a password reached the log:\n%s", out)
	}
}
