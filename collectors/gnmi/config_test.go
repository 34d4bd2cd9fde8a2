package gnmi

import "testing"

// TestValidateNamedLists checks the errors Validate gives for the
// subscription and target lists: an item's own problem under its index, a
// name used twice, and a target naming a subscription that is not there.
func TestValidateNamedLists(t *testing.T) {
	sub := Subscription{Name: "if", Paths: []string{"/interfaces"}}
	r1 := Target{Name: "r1", Address: "127.0.0.1:57400", Subscriptions: []string{"if"}}
	f := func(c Config, want string) {
		t.Helper()
		got := ""
		if err := c.WithDefaults().Validate(); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("Validate() = %q, want %q", got, want)
		}
	}
	f(Config{Subscriptions: []Subscription{sub}, Targets: []Target{r1}}, "")
	f(Config{Subscriptions: []Subscription{sub, {Paths: sub.Paths}}}, "subscriptions[1].name: required")
	f(Config{Subscriptions: []Subscription{sub, sub}}, `subscriptions[1].name: "if" is used twice`)
	f(Config{Subscriptions: []Subscription{sub}, Targets: []Target{r1, r1}}, `targets[1].name: "r1" is used twice`)
	f(Config{Subscriptions: []Subscription{{Name: "bgp", Paths: sub.Paths}}, Targets: []Target{r1}},
		`targets[0].subscriptions[0]: no subscription is named "if"`)
	// A username without a password would send an empty one.
	withUser := r1
	withUser.Username = "tk"
	f(Config{Subscriptions: []Subscription{sub}, Targets: []Target{withUser}},
		"targets[0].password: required with a username: give {file: PATH} or {env: VAR}")
}
