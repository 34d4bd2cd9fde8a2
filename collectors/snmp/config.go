package snmp

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/internal/hostport"
	"github.com/telekernel/telekernel/internal/secret"
)

// Defaults of Config and Target.
const (
	DefaultWorkers        = 64
	DefaultInterval       = 60 * time.Second
	DefaultTimeout        = 2 * time.Second
	DefaultRetries        = 1
	DefaultMaxRepetitions = 25
	DefaultPort           = 161
)

// MIB groups a target can be polled for.
const (
	MIBInterfaces = "if"     // IF-MIB: ifXTable HC counters and ifName, ifTable oper status, errors, discards
	MIBEntity     = "entity" // ENTITY-MIB names and ENTITY-SENSOR-MIB values (temperature, fans, power, voltage, current)
	MIBBGP        = "bgp"    // BGP4-MIB bgpPeerState: each peer's session state
	MIBLLDP       = "lldp"   // LLDP-MIB lldpRemTable and lldpLocPortTable: each neighbour's system name and port id
)

// Config configures the SNMP collector.
type Config struct {
	Targets []Target `yaml:"targets"`
	// Defaults fill the fields a target leaves unset.
	Defaults Target `yaml:"defaults"`
	// Workers is the number of polls in flight at once, over all targets:
	// the global concurrency limit. An idle target costs no goroutine and
	// no socket. Default DefaultWorkers.
	Workers int `yaml:"workers"`
	// TargetState publishes each target's reachability as it changes
	// (schemas.MetricTargetState and MetricTargetReason, targetstate.go),
	// so that the detect stage sees a device the collector lost. Default
	// true; false publishes none.
	TargetState *bool `yaml:"target_state"`
}

// Target is one SNMP agent.
type Target struct {
	// Name is the device name samples carry; required and unique.
	Name string `yaml:"name"`
	// Address is host or host:port (default port 161).
	Address string `yaml:"address"`
	// Version is v2c (default) or v3.
	Version string `yaml:"version"`
	// Community of v2c, from a file or the environment.
	Community secret.Source `yaml:"community"`
	// V3 holds the USM credentials of v3.
	V3 V3 `yaml:"v3"`
	// Interval between polls; default DefaultInterval.
	Interval time.Duration `yaml:"interval"`
	// Timeout of one request; default DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// Retries of a request that timed out; default DefaultRetries (-1: none).
	Retries int `yaml:"retries"`
	// MaxRepetitions of GetBulk requests; default DefaultMaxRepetitions.
	MaxRepetitions uint32 `yaml:"max_repetitions"`
	// MIBs to poll: "if", "entity", "bgp", "lldp"; default if and entity.
	MIBs []string `yaml:"mibs"`
}

// V3 holds SNMPv3 USM settings. The security level is authPriv when a
// privacy protocol is set, authNoPriv when only authentication is, and
// noAuthNoPriv otherwise.
type V3 struct {
	Username string `yaml:"username"`
	// AuthProtocol: MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512.
	AuthProtocol string        `yaml:"auth_protocol"`
	AuthPassword secret.Source `yaml:"auth_password"`
	// PrivProtocol: DES, AES (AES-128), AES-192, AES-256 (Blumenthal), or
	// AES-192C, AES-256C (Reeder, as Cisco and Net-SNMP's non-standard ones).
	PrivProtocol string        `yaml:"priv_protocol"`
	PrivPassword secret.Source `yaml:"priv_password"`
	// ContextName of the requests; default empty.
	ContextName string `yaml:"context_name"`
}

var (
	authProtocols = map[string]gosnmp.SnmpV3AuthProtocol{"MD5": gosnmp.MD5, "SHA": gosnmp.SHA, "SHA-224": gosnmp.SHA224,
		"SHA-256": gosnmp.SHA256, "SHA-384": gosnmp.SHA384, "SHA-512": gosnmp.SHA512}
	privProtocols = map[string]gosnmp.SnmpV3PrivProtocol{"DES": gosnmp.DES, "AES": gosnmp.AES, "AES-192": gosnmp.AES192,
		"AES-256": gosnmp.AES256, "AES-192C": gosnmp.AES192C, "AES-256C": gosnmp.AES256C}
)

// publishesState reports whether the collector publishes its targets'
// state: TargetState, true when unset.
func (c Config) publishesState() bool { return c.TargetState == nil || *c.TargetState }

// WithDefaults returns c with defaults applied.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Workers, DefaultWorkers)
	if c.TargetState == nil {
		on := true
		c.TargetState = &on
	}
	c.Targets = slices.Clone(c.Targets)
	for i := range c.Targets {
		c.Targets[i] = c.Targets[i].inherit(c.Defaults)
	}
	return c
}

func (t Target) inherit(d Target) Target {
	if t.Version == "" {
		t.Version = d.Version
	}
	if t.Version == "" {
		t.Version = "v2c"
	}
	if t.Community.IsZero() {
		t.Community = d.Community
	}
	// Field by field, as the other fields: a target that names its own
	// username or context keeps the defaults' protocols and passphrases
	// (replacing v3 whole polled it noAuthNoPriv).
	v, dv := &t.V3, d.V3
	v.Username = cmp.Or(v.Username, dv.Username)
	v.AuthProtocol = cmp.Or(v.AuthProtocol, dv.AuthProtocol)
	v.PrivProtocol = cmp.Or(v.PrivProtocol, dv.PrivProtocol)
	v.ContextName = cmp.Or(v.ContextName, dv.ContextName)
	if v.AuthPassword.IsZero() {
		v.AuthPassword = dv.AuthPassword
	}
	if v.PrivPassword.IsZero() {
		v.PrivPassword = dv.PrivPassword
	}
	for _, f := range []struct {
		dst *time.Duration
		d   time.Duration
		def time.Duration
	}{{&t.Interval, d.Interval, DefaultInterval}, {&t.Timeout, d.Timeout, DefaultTimeout}} {
		if *f.dst == 0 {
			*f.dst = f.d
		}
		if *f.dst == 0 {
			*f.dst = f.def
		}
	}
	if t.Retries == 0 {
		t.Retries = d.Retries
	}
	if t.Retries == 0 {
		t.Retries = DefaultRetries
	}
	if t.MaxRepetitions == 0 {
		t.MaxRepetitions = d.MaxRepetitions
	}
	if t.MaxRepetitions == 0 {
		t.MaxRepetitions = DefaultMaxRepetitions
	}
	if len(t.MIBs) == 0 {
		t.MIBs = d.MIBs
	}
	if len(t.MIBs) == 0 {
		t.MIBs = []string{MIBInterfaces, MIBEntity}
	}
	return t
}

// Validate reports the first bad field as "path: problem".
func (c Config) Validate() error {
	if c.Workers < 1 {
		return fmt.Errorf("workers: %d must be at least 1", c.Workers)
	}
	return cfgcheck.Named("targets", c.Targets, func(t Target) string { return t.Name }, Target.validate)
}

func (t Target) validate() error {
	if t.Name == "" {
		return errors.New("name: required")
	}
	if _, _, err := t.hostPort(); err != nil {
		return fmt.Errorf("address: %w", err)
	}
	switch t.Version {
	case "v2c":
		if t.Community.IsZero() {
			return errors.New("community: required for v2c (file or env)")
		}
	case "v3":
		if t.V3.Username == "" {
			return errors.New("v3.username: required for v3")
		}
		if p := t.V3.AuthProtocol; p != "" {
			if _, ok := authProtocols[strings.ToUpper(p)]; !ok {
				return fmt.Errorf("v3.auth_protocol: %q is not MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512", p)
			}
			if t.V3.AuthPassword.IsZero() {
				return errors.New("v3.auth_password: required with an auth protocol")
			}
		}
		if p := t.V3.PrivProtocol; p != "" {
			if _, ok := privProtocols[strings.ToUpper(p)]; !ok {
				return fmt.Errorf("v3.priv_protocol: %q is not DES, AES, AES-192, AES-256, AES-192C or AES-256C", p)
			}
			if t.V3.AuthProtocol == "" {
				return errors.New("v3.auth_protocol: privacy needs authentication")
			}
			if t.V3.PrivPassword.IsZero() {
				return errors.New("v3.priv_password: required with a priv protocol")
			}
		}
	default:
		return fmt.Errorf("version: %q is not v2c or v3", t.Version)
	}
	if t.Interval < 100*time.Millisecond || t.Timeout <= 0 || t.Retries < -1 {
		return errors.New("interval: must be at least 100ms, timeout positive and retries at least -1")
	}
	if t.MaxRepetitions > 255 {
		return fmt.Errorf("max_repetitions: %d is above 255", t.MaxRepetitions)
	}
	for j, m := range t.MIBs {
		if m != MIBInterfaces && m != MIBEntity && m != MIBBGP && m != MIBLLDP {
			return fmt.Errorf("mibs[%d]: %q is not if, entity, bgp or lldp", j, m)
		}
	}
	sec, err := t.newSecrets(nil)
	if err != nil {
		return err // a secret that does not load (missing file, unset variable)
	}
	if _, err := t.client(sec); err != nil {
		return err
	}
	return nil
}

// Weakness says in one line why t's USM security is weaker than authPriv
// with SHA and AES, naming the field, or returns "" when it is not: a v3
// target without authentication or privacy, or on MD5 or DES. A v2c
// community crosses the network in clear by design and is not reported.
func (t Target) Weakness() string {
	if t.Version != "v3" {
		return ""
	}
	switch auth, priv := strings.ToUpper(t.V3.AuthProtocol), strings.ToUpper(t.V3.PrivProtocol); {
	case auth == "":
		return "v3.auth_protocol: unset (noAuthNoPriv): answers are neither authenticated nor encrypted; set auth_protocol: SHA-256 and priv_protocol: AES"
	case priv == "":
		return "v3.priv_protocol: unset (authNoPriv): requests and answers cross the network unencrypted; set priv_protocol: AES"
	case auth == "MD5":
		return "v3.auth_protocol: MD5 is weak (deprecated for USM); use SHA-256"
	case priv == "DES":
		return "v3.priv_protocol: DES (56-bit key) is broken; use AES"
	}
	return ""
}

func (t Target) hostPort() (string, uint16, error) {
	if hostport.Credentials(t.Address) {
		// Not repeated: user:password@host or a URL may hold a password.
		return "", 0, errors.New("want host or host:port, without a user, password or scheme (credentials go in community or v3)")
	}
	host, port, err := net.SplitHostPort(t.Address)
	if err != nil {
		if t.Address == "" || strings.Contains(t.Address, ":") && !strings.HasPrefix(t.Address, "[") {
			return "", 0, fmt.Errorf("%q is not host or host:port", t.Address)
		}
		return t.Address, DefaultPort, nil
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return "", 0, fmt.Errorf("%q has a bad port", t.Address)
	}
	return host, uint16(p), nil
}

// secrets are a target's community or USM passphrases as secret.Live
// values: a file is read again before each poll, so a secret the operator
// rotated by rewriting it needs no restart, and a file that cannot be read
// keeps the value read before (one warning naming the field and the file)
// instead of failing the poll. Only the worker polling the target uses
// them.
type secrets struct {
	community, auth, priv *secret.Live
}

// newSecrets loads the secrets the target's version and protocols use,
// an error naming the field; log takes the lines of their reloads (nil:
// none).
func (t Target) newSecrets(log *slog.Logger) (*secrets, error) {
	var sec secrets
	load := func(dst **secret.Live, field string, s secret.Source) error {
		l, err := s.Live("snmp.targets["+t.Name+"]."+field, log)
		if err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
		*dst = l
		return nil
	}
	switch t.Version {
	case "v2c":
		if err := load(&sec.community, "community", t.Community); err != nil {
			return nil, err
		}
	case "v3":
		if t.V3.AuthProtocol != "" {
			if err := load(&sec.auth, "v3.auth_password", t.V3.AuthPassword); err != nil {
				return nil, err
			}
		}
		if t.V3.PrivProtocol != "" {
			if err := load(&sec.priv, "v3.priv_password", t.V3.PrivPassword); err != nil {
				return nil, err
			}
		}
	}
	return &sec, nil
}

// reload reads the secrets' files again.
func (s *secrets) reload() {
	for _, l := range []*secret.Live{s.community, s.auth, s.priv} {
		if l != nil {
			l.Reload()
		}
	}
}

// client returns an unconnected gosnmp client for the target, with the
// values sec holds.
func (t Target) client(sec *secrets) (*gosnmp.GoSNMP, error) {
	host, port, err := t.hostPort()
	if err != nil {
		return nil, err
	}
	g := &gosnmp.GoSNMP{Target: host, Port: port, Transport: "udp", Timeout: t.Timeout, Retries: max(t.Retries, 0),
		MaxOids: gosnmp.MaxOids, MaxRepetitions: t.MaxRepetitions, ExponentialTimeout: false}
	switch t.Version {
	case "v2c":
		g.Version, g.Community = gosnmp.Version2c, sec.community.Value().Reveal()
	case "v3":
		usm := &gosnmp.UsmSecurityParameters{UserName: t.V3.Username}
		g.Version, g.SecurityModel, g.MsgFlags = gosnmp.Version3, gosnmp.UserSecurityModel, gosnmp.NoAuthNoPriv
		g.ContextName = t.V3.ContextName
		if p := t.V3.AuthProtocol; p != "" {
			usm.AuthenticationProtocol, usm.AuthenticationPassphrase = authProtocols[strings.ToUpper(p)], sec.auth.Value().Reveal()
			g.MsgFlags = gosnmp.AuthNoPriv
		}
		if p := t.V3.PrivProtocol; p != "" {
			usm.PrivacyProtocol, usm.PrivacyPassphrase = privProtocols[strings.ToUpper(p)], sec.priv.Value().Reveal()
			g.MsgFlags = gosnmp.AuthPriv
		}
		g.SecurityParameters = usm
	}
	return g, nil
}
