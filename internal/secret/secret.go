// Package secret loads secrets from files or the environment and keeps them
// out of logs: a Secret formats as "***" with fmt, slog and JSON.
package secret

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Source says where a secret comes from: at most one of File and Env. A
// plain value in the config file is not supported on purpose: configs get
// committed and pasted.
type Source struct {
	File string `yaml:"file"` // path of a file holding the secret; trailing newlines are trimmed
	Env  string `yaml:"env"`  // name of an environment variable holding the secret
}

// UnmarshalYAML reads {file: PATH} or {env: VAR} strictly (an unknown field
// is an error). A plain value is refused without repeating it, so a pasted
// password never reaches an error message or a log.
func (s *Source) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil
		}
		return typeError(n, PlainRefused+": give {file: PATH} or {env: VAR}")
	case yaml.MappingNode:
	default:
		return typeError(n, WantSource)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var dst *string
		switch k.Value {
		case "file":
			dst = &s.File
		case "env":
			dst = &s.Env
		default:
			// yaml.v3's own wording, so the caller names the field.
			return typeError(k, "field "+k.Value+" not found in type secret.Source")
		}
		if err := v.Decode(dst); err != nil {
			return err
		}
	}
	return nil
}

// WantSource is the error of a secret that is neither a mapping nor a
// scalar (a list).
const WantSource = "want {file: PATH} or {env: VAR}"

// PlainRefused starts the error of a secret written in the config file.
const PlainRefused = "a secret is never written in the config file"

// typeError returns msg at n's line as yaml.v3 reports decoding errors.
func typeError(n *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, msg)}}
}

// IsZero reports whether no source is set.
func (s Source) IsZero() bool { return s.File == "" && s.Env == "" }

// Load reads the secret. A zero Source loads an empty secret; a file or
// variable that holds nothing (after trimming trailing newlines) is an
// error, as it is almost always a mistake.
func (s Source) Load() (Secret, error) {
	switch {
	case s.File != "" && s.Env != "":
		return "", errors.New("set either file or env, not both")
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			return "", fmt.Errorf("cannot read secret file: %w", err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("secret file %s is empty", s.File)
		}
		return Secret(v), nil
	case s.Env != "":
		v, ok := os.LookupEnv(s.Env)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", s.Env)
		}
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty", s.Env)
		}
		return Secret(v), nil
	}
	return "", nil
}

// Secret is a sensitive string. Use Reveal to get the value.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "***"
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue hides the value from slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText hides the value from encoders.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Live is a secret that follows its file while the process runs: operators
// rotate a password by rewriting the file (a Kubernetes secret volume is
// updated in place), and a client calls Reload before it authenticates again.
// A secret from an environment variable is fixed at start. Live is safe for
// concurrent use.
type Live struct {
	src   Source
	field string
	log   *slog.Logger

	mu      sync.Mutex
	val     Secret
	failing bool // the last Reload could not read the file; logged once
}

// Live loads s as Load does and returns it as a Live secret; field names
// the config field in the lines Reload logs (kafka.sasl.password, say). A
// nil log logs nothing.
func (s Source) Live(field string, log *slog.Logger) (*Live, error) {
	v, err := s.Load()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Live{src: s, field: field, log: log, val: v}, nil
}

// Value returns the value last read.
func (l *Live) Value() Secret {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.val
}

// FromFile reports whether the secret comes from a file, so Reload may
// change it.
func (l *Live) FromFile() bool { return l.src.File != "" }

// Reload reads the file again and reports whether the value changed. A file
// that cannot be read or holds nothing keeps the previous value and logs one
// warning naming the field and the file, once until a read succeeds again.
// Neither value is ever logged. A secret from the environment is not read
// again: Reload returns false.
func (l *Live) Reload() bool {
	if l.src.File == "" {
		return false
	}
	v, err := l.src.Load()
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		if !l.failing {
			l.failing = true
			l.log.Warn("cannot read the secret file again; keeping the value read before", "field", l.field, "file", l.src.File, "err", err)
		}
		return false
	}
	if l.failing {
		l.failing = false
		l.log.Info("secret file readable again", "field", l.field, "file", l.src.File)
	}
	if v == l.val {
		return false
	}
	l.val = v
	l.log.Info("secret file changed; using the new value", "field", l.field, "file", l.src.File)
	return true
}
