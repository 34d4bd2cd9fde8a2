package snmp

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/gosnmp/gosnmp"

	"github.com/telekernel/telekernel/collectors/publish"
	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/schemas"
)

// A community read from a file is read again at each poll (the simulated
// agent's community names the device, so a rewrite shows in the samples),
// and a file that cannot be read keeps the value read before: the poll goes
// on instead of failing (and marking the target down) over a local file.
func TestCommunityFileReadAgain(t *testing.T) {
	_, s := simAgent(t, 2)
	p := filepath.Join(t.TempDir(), "community")
	write := func(v string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("nobody\n")
	tg := Target{Name: "r1", Address: s.Addr(), Community: secret.Source{File: p}, Timeout: 200 * time.Millisecond, Retries: -1}.inherit(Target{})
	if err := tg.validate(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	st := state{log: slog.New(slog.NewTextHandler(&logs, nil))}
	do := func() error {
		b := publish.NewBatch(memory.NewGoAllocator(), tg.Name, schemas.SourceSNMP)
		defer b.Release()
		_, err := poll(context.Background(), tg, &st, b)
		if rec := b.NewRecord(); rec != nil {
			rec.Release()
		}
		return err
	}
	if err := do(); err == nil {
		t.Fatal("a poll with a community the agent does not know succeeded")
	}
	write("sim-01\n")
	if err := do(); err != nil {
		t.Fatalf("a poll after the file was rewritten: %v", err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := do(); err != nil {
			t.Fatalf("a poll after the community file was removed: %v", err)
		}
	}
	out := logs.String()
	if n := strings.Count(out, "cannot read the secret file again"); n != 1 {
		t.Errorf("%d warnings for the missing file, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "field=snmp.targets[r1].community file="+p) {
		t.Errorf("the warning does not name the field and the file:\n%s", out)
	}
	if strings.Contains(out, "sim-01") || strings.Contains(out, "nobody") {
		t.Errorf("a community reached the log:\n%s", out)
	}
}

// The USM passphrases follow their files the same way, at the gosnmp
// boundary (the machine's snmpd has only the users its script creates at
// start, and adding one needs a restart of the shared service): the client
// of each poll carries the passphrases the files hold, or the ones read
// before when a file cannot be read.
func TestUSMPassphraseFilesReadAgain(t *testing.T) {
	dir := t.TempDir()
	auth, priv := filepath.Join(dir, "auth"), filepath.Join(dir, "priv")
	write := func(p, v string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(auth, "auth-pass-1\n")
	write(priv, "priv-pass-1\n")
	tg := Target{Name: "r1", Address: "127.0.0.1:161", Version: "v3", V3: V3{Username: "tk",
		AuthProtocol: "SHA-256", AuthPassword: secret.Source{File: auth},
		PrivProtocol: "AES", PrivPassword: secret.Source{File: priv}}}.inherit(Target{})
	if err := tg.validate(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	sec, err := tg.newSecrets(slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	usm := func() (string, string) {
		t.Helper()
		sec.reload()
		g, err := tg.client(sec)
		if err != nil {
			t.Fatal(err)
		}
		u := g.SecurityParameters.(*gosnmp.UsmSecurityParameters)
		return u.AuthenticationPassphrase, u.PrivacyPassphrase
	}
	if a, p := usm(); a != "auth-pass-1" || p != "priv-pass-1" {
		t.Fatalf("at start: %q %q", a, p)
	}
	write(auth, "auth-pass-2\n")
	write(priv, "priv-pass-2\n")
	if a, p := usm(); a != "auth-pass-2" || p != "priv-pass-2" {
		t.Fatalf("after a rewrite: %q %q", a, p)
	}
	if err := os.Remove(auth); err != nil {
		t.Fatal(err)
	}
	write(priv, "")
	for range 2 {
		if a, p := usm(); a != "auth-pass-2" || p != "priv-pass-2" {
			t.Fatalf("unreadable files must keep the values: %q %q", a, p)
		}
	}
	out := logs.String()
	for _, f := range []string{"field=snmp.targets[r1].v3.auth_password file=" + auth, "field=snmp.targets[r1].v3.priv_password file=" + priv} {
		if n := strings.Count(out, "keeping the value read before\" "+f); n != 1 {
			t.Errorf("%d warnings with %s, want 1:\n%s", n, f, out)
		}
	}
	if strings.Contains(out, "-pass-") {
		t.Errorf("a passphrase reached the log:\n%s", out)
	}
}
