package gnmi

import (
	"testing"
	"time"
)

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

// TestResendInterval: the decoder of a subscription whose target sends
// every leaf again at a known interval is told it (and ages out the LLDP
// neighbours the target stops sending); an on-change one is told none.
func TestResendInterval(t *testing.T) {
	f := func(s Subscription, want time.Duration) {
		t.Helper()
		s.Name, s.Paths = "s", []string{"/lldp"}
		c := Config{Subscriptions: []Subscription{s}}.WithDefaults()
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if got := c.Subscriptions[0].resendInterval(); got != want {
			t.Errorf("%+v: resend interval %v, want %v", s, got, want)
		}
	}
	f(Subscription{}, DefaultSampleInterval)
	f(Subscription{SampleInterval: 30 * time.Second}, 30*time.Second)
	f(Subscription{StreamMode: "on_change"}, 0)
	f(Subscription{StreamMode: "on_change", HeartbeatInterval: time.Minute}, 0)
	f(Subscription{StreamMode: "target_defined", SampleInterval: 10 * time.Second}, 0)
	f(Subscription{SuppressRedundant: true, HeartbeatInterval: time.Minute}, 0)
	f(Subscription{Mode: "poll", SampleInterval: 20 * time.Second}, 20*time.Second)
	f(Subscription{Mode: "once", StreamMode: "on_change", SampleInterval: time.Minute}, time.Minute)
	// The default subscription (interfaces, components, LLDP…) samples.
	if got := (Config{}).WithDefaults().Subscriptions[0].resendInterval(); got != DefaultSampleInterval {
		t.Errorf("default subscription: resend interval %v", got)
	}
}
