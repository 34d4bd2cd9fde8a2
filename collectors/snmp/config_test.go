package snmp

import (
	"testing"

	"github.com/telekernel/telekernel/internal/secret"
)

// TestValidateTargets checks the errors Validate gives for the target
// list: a target's own problem under its index, and a name used twice.
func TestValidateTargets(t *testing.T) {
	t.Setenv("TK_TEST_COMMUNITY", "public")
	r1 := Target{Name: "r1", Address: "127.0.0.1:161", Community: secret.Source{Env: "TK_TEST_COMMUNITY"}}
	f := func(targets []Target, want string) {
		t.Helper()
		got := ""
		if err := (Config{Targets: targets}).WithDefaults().Validate(); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("Validate() = %q, want %q", got, want)
		}
	}
	f([]Target{r1}, "")
	f([]Target{r1, {Address: r1.Address}}, "targets[1].name: required")
	f([]Target{r1, r1}, `targets[1].name: "r1" is used twice`)
}
