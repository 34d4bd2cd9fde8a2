package snmp

import (
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/telekernel/telekernel/internal/secret"
)

// TestV3DefaultsKeepAuthPriv: a v3 target that sets only some of its v3
// fields (its own username, a context) under defaults that configure
// authPriv is polled with authPriv, the defaults filling the protocols and
// passphrases it leaves unset, as "defaults fill whatever a target leaves
// unset" says. Before, any v3 field on the target replaced the defaults'
// v3 whole, so such a target was polled noAuthNoPriv: unauthenticated,
// unencrypted answers that anyone on the path could forge.
func TestV3DefaultsKeepAuthPriv(t *testing.T) {
	t.Setenv("TK_TEST_AUTH", "auth-pass")
	t.Setenv("TK_TEST_PRIV", "priv-pass")
	cfg := Config{
		Defaults: Target{Version: "v3", V3: V3{Username: "tk",
			AuthProtocol: "SHA-256", AuthPassword: secret.Source{Env: "TK_TEST_AUTH"},
			PrivProtocol: "AES", PrivPassword: secret.Source{Env: "TK_TEST_PRIV"}}},
		Targets: []Target{
			{Name: "r1", Address: "127.0.0.1:161", V3: V3{Username: "r1-user"}},
			{Name: "r2", Address: "127.0.0.1:161", V3: V3{ContextName: "mgmt"}},
		},
	}.WithDefaults()
	for _, tg := range cfg.Targets {
		if err := tg.validate(); err != nil {
			t.Errorf("%s: %v", tg.Name, err)
			continue
		}
		sec, err := tg.newSecrets(nil)
		if err != nil {
			t.Fatalf("%s: %v", tg.Name, err)
		}
		g, err := tg.client(sec)
		if err != nil {
			t.Fatalf("%s: %v", tg.Name, err)
		}
		usm := g.SecurityParameters.(*gosnmp.UsmSecurityParameters)
		if g.MsgFlags != gosnmp.AuthPriv || usm.AuthenticationProtocol != gosnmp.SHA256 || usm.PrivacyProtocol != gosnmp.AES ||
			usm.AuthenticationPassphrase != "auth-pass" || usm.PrivacyPassphrase != "priv-pass" {
			t.Errorf("%s: polled with flags %v, auth %v, priv %v (weakness %q); want authPriv SHA-256/AES from the defaults",
				tg.Name, g.MsgFlags, usm.AuthenticationProtocol, usm.PrivacyProtocol, tg.Weakness())
		}
	}
	if u := cfg.Targets[0].V3.Username; u != "r1-user" {
		t.Errorf("r1's own username replaced: %q", u)
	}
	if c := cfg.Targets[1].V3; c.Username != "tk" || c.ContextName != "mgmt" {
		t.Errorf("r2: username %q, context %q; want tk (defaults) and mgmt (its own)", c.Username, c.ContextName)
	}
}
