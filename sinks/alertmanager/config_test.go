package alertmanager

import (
	"strings"
	"testing"
	"time"

	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

func TestConfigValidate(t *testing.T) {
	f := func(c Config, want string) {
		t.Helper()
		err := c.Validate()
		switch {
		case want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", c, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%+v: error %v, want one containing %q", c, err, want)
		}
	}
	ok := "http://127.0.0.1:9093"
	f(Config{URL: ok}, "")
	f(Config{URL: "https://am.example.net/alertmanager/", Username: "tk", Password: secret.Source{Env: "AM_PW"}}, "")
	f(Config{}, "url: required")
	f(Config{URL: "127.0.0.1:9093"}, "like http://127.0.0.1:9093")
	f(Config{URL: "ftp://x"}, "url: scheme")
	f(Config{URL: "http://"}, "has no host")
	f(Config{URL: "http://tk:pw@127.0.0.1:9093"}, "must not contain credentials")
	f(Config{URL: ok + "?x=1"}, "query")
	f(Config{URL: ok, Timeout: -time.Second}, "timeout:")
	f(Config{URL: ok, ResendInterval: -time.Second}, "resend_interval:")
	f(Config{URL: ok, Username: "tk"}, "password: required with username")
	f(Config{URL: ok, Password: secret.Source{Env: "X"}}, "password: set without username")
	f(Config{URL: ok, Username: "tk", Password: secret.Source{Env: "X", File: "/f"}}, "either file or env")
	f(Config{URL: ok, TLS: tlsfiles.Config{Enabled: true}}, "tls: enabled but url is not https")
	f(Config{URL: "https://x", TLS: tlsfiles.Config{CAFile: "/ca.pem"}}, "enabled is false")
	f(Config{URL: "https://x", TLS: tlsfiles.Config{Enabled: true, CAFile: "/nonexistent/ca.pem"}}, "ca_file")
	f(Config{URL: ok, GeneratorURL: "/relative"}, "generator_url:")
	f(Config{URL: ok, Source: "alerts"}, "source:")
	f(Config{URL: ok, Source: SourceIncidents}, "")
}

// A URL with credentials is refused without repeating them, also when it
// does not parse (a password with a raw %) or has no host.
func TestConfigURLCredentialsNotEchoed(t *testing.T) {
	for _, u := range []string{"http://tk:s3cr%t@am:9093", "http://tk:s3cret@", "http://tk:s3cret@/am", "http://tk:s3c/ret@am:9093"} {
		err := Config{URL: u}.Validate()
		if err == nil || strings.Contains(err.Error(), "s3c") {
			t.Errorf("%s: error %v, want one without the password", u, err)
		}
	}
}

func TestNewWrapsConfigErrors(t *testing.T) {
	_, err := New(Config{URL: "http://127.0.0.1:9093", Username: "tk", Password: secret.Source{Env: "TK_TEST_UNSET_PASSWORD_VAR"}})
	if err == nil || !strings.Contains(err.Error(), "alertmanager: invalid config: password:") {
		t.Fatalf("err = %v", err)
	}
}
