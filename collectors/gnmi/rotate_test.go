package gnmi_test

import (
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
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

// copyFile copies src over dst (a rewrite in place, as cert-manager does).
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// The TLS files of a target are loaded again when they change: after the
// device moved to a new CA (a new server certificate, and client
// certificates of the new CA only) and dropped the stream, the collector's
// handshakes fail until its ca_file, cert_file and key_file are rewritten,
// and the next attempt then subscribes, without a restart. A certificate
// rewritten before its key keeps the pair loaded before, with one warning
// naming the field and the file.
func TestTLSFilesRotation(t *testing.T) {
	pkiA, err := agent.NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pkiB, err := agent.NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var server atomic.Pointer[tls.Config]
	use := func(p *agent.PKI) {
		c := p.ServerTLS(true)
		c.NextProtos = []string{"h2"}
		server.Store(c)
	}
	use(pkiA)
	a := newAgent(t, 1, agent.Config{}, agent.WithTLS(&tls.Config{
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return server.Load(), nil }}))
	dir := t.TempDir()
	tc := tlsfiles.Config{Enabled: true, CAFile: filepath.Join(dir, "ca.pem"),
		CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key")}
	install := func(p *agent.PKI) {
		copyFile(t, p.CAFile, tc.CAFile)
		copyFile(t, p.ClientCert, tc.CertFile)
		copyFile(t, p.ClientKey, tc.KeyFile)
	}
	install(pkiA)
	tg := targetsOf(a, tc)
	logs := &testenv.LogBuffer{}
	c, stop := runCollector(t, fastConfig(tg), fakeKafka(t), slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	waitFor(t, 10*time.Second, "the first subscription", func() bool { return c.Stats().Connects == 1 })

	use(pkiB) // the device moves to the new CA; its reboot ends the stream
	name := tg[0].Name
	if err := a.Stop(name); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(name); err != nil {
		t.Fatal(err)
	}
	failures := c.Stats().Failures
	waitFor(t, 10*time.Second, "failed handshakes", func() bool { return c.Stats().Failures >= failures+2 })
	copyFile(t, pkiB.CAFile, tc.CAFile)
	copyFile(t, pkiB.ClientCert, tc.CertFile) // the key is still the old one
	waitFor(t, 10*time.Second, "the warning about the unmatched pair", func() bool {
		return strings.Contains(logs.String(), "cannot load the TLS file again")
	})
	copyFile(t, pkiB.ClientKey, tc.KeyFile)
	waitFor(t, 10*time.Second, "a subscription over the new certificates", func() bool { return c.Stats().Connects == 2 })
	stop()
	out := logs.String()
	if n := strings.Count(out, "cannot load the TLS file again"); n != 1 {
		t.Errorf("%d warnings for the unmatched pair, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "field=gnmi.targets["+name+"].tls.cert_file file="+tc.CertFile) {
		t.Errorf("the warning does not name the field and the file:\n%s", out)
	}
}
