package gnmi

import (
	"testing"

	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// TestTargetTLSInheritsDefaults: a target's tls fills what it leaves
// unset from the defaults', as every other field of a target does: one
// that names its server_name (a device dialled by its IP) or turns TLS
// on keeps the defaults' CA and client certificate, so mutual TLS holds;
// one with a certificate of its own keeps its pair. Before, any tls of
// the target replaced the defaults' whole: the CA and the client
// certificate were dropped without a word (the device checked against
// the system CAs, no client certificate sent).
func TestTargetTLSInheritsDefaults(t *testing.T) {
	d := tlsfiles.Config{Enabled: true, CAFile: "ca.pem", CertFile: "client.pem", KeyFile: "client.key"}
	for _, c := range []struct {
		name      string
		own, want tlsfiles.Config
	}{
		{"none", tlsfiles.Config{}, d},
		{"server name", tlsfiles.Config{ServerName: "r1.example.net"},
			tlsfiles.Config{Enabled: true, CAFile: "ca.pem", CertFile: "client.pem", KeyFile: "client.key", ServerName: "r1.example.net"}},
		{"enabled", tlsfiles.Config{Enabled: true}, d},
		{"own pair", tlsfiles.Config{Enabled: true, CertFile: "r1.pem", KeyFile: "r1.key"},
			tlsfiles.Config{Enabled: true, CAFile: "ca.pem", CertFile: "r1.pem", KeyFile: "r1.key"}},
	} {
		if got := (Target{TLS: c.own}).inherit(Target{TLS: d}).TLS; got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
