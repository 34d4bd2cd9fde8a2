package alertmanager

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/telekernel/telekernel/internal/cfgcheck"
	"github.com/telekernel/telekernel/internal/secret"
	"github.com/telekernel/telekernel/internal/tlsfiles"
)

// Defaults of Config fields left at their zero value.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultResendInterval = time.Minute
	// MaxBatch is the most alerts one request carries; a larger Flush sends
	// several requests.
	MaxBatch = 1000
	// endsAtFactor × ResendInterval is how far in the future a firing
	// alert's endsAt is set (Prometheus uses the same factor).
	endsAtFactor = 4
)

// Config configures a Sink. The zero value of every field but URL means its
// default. A Config is a plain value: copying it is fine.
type Config struct {
	// URL is Alertmanager's base URL, e.g. http://127.0.0.1:9093 or
	// https://am.example.net/alertmanager; alerts go to URL/api/v2/alerts.
	// Required. It must not carry credentials: use Username and Password.
	URL string `yaml:"url"`
	// Timeout bounds one HTTP request, connection included; default
	// DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// Username enables HTTP basic authentication (for an Alertmanager
	// behind an authenticating proxy, or with web.config basic_auth_users).
	Username string `yaml:"username"`
	// Password of Username, from a file or an environment variable; never
	// logged. Required when Username is set.
	Password secret.Source `yaml:"password"`
	// BearerToken, from a file or an environment variable, is sent as
	// "Authorization: Bearer TOKEN" (for an Alertmanager behind an
	// authenticating proxy); a file is read again before each request.
	// Never logged. Mutually exclusive with Username and Password.
	BearerToken secret.Source `yaml:"bearer_token"`
	// TLS configures the client for an https URL; with TLS.Enabled false an
	// https URL uses the system roots.
	TLS tlsfiles.Config `yaml:"tls"`
	// ResendInterval is how often a firing alert is posted again, with a new
	// endsAt of now + 4 × ResendInterval; default DefaultResendInterval. It
	// relies on Flush being called at least this often, which the
	// pipeline.Runner does every flush interval.
	ResendInterval time.Duration `yaml:"resend_interval"`
	// GeneratorURL, when set, is sent as every alert's generatorURL (e.g. a
	// dashboard link); it must be an absolute URL.
	GeneratorURL string `yaml:"generator_url"`
	// SeverityLabel adds the detection's severity to the labels posted, for
	// Alertmanager routes that match on severity. Off by default: the
	// labels are then exactly the detection's, so Alertmanager's
	// fingerprint equals the tk.detections key. With it on, the fingerprint
	// differs and a change of severity resolves the alert posted with the
	// old one. The severity is always in the annotations.
	SeverityLabel bool `yaml:"severity_label"`
	// Source is what the bridge posts: SourceIncidents (one alert per
	// incident of the correlate stage, so a root cause pages once) or
	// SourceDetections (one per detection). Empty: incidents when the
	// correlate stage runs, detections otherwise (decided by the process
	// that runs the bridge; the Sink itself reads empty as detections).
	Source string `yaml:"source"`
}

// WithDefaults returns c with every zero field but URL set to its default.
func (c Config) WithDefaults() Config {
	cfgcheck.Default(&c.Timeout, DefaultTimeout)
	cfgcheck.Default(&c.ResendInterval, DefaultResendInterval)
	return c
}

// Validate reports the first bad field; the message names it.
func (c Config) Validate() error {
	if c.URL == "" {
		return errors.New("url: required (Alertmanager's base URL, e.g. http://127.0.0.1:9093)")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("url: %q is not a URL like http://127.0.0.1:9093", redactURL(c.URL))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url: scheme %q is not http or https (want a URL like http://127.0.0.1:9093)", u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("url: %q has no host", redactURL(c.URL))
	}
	if u.User != nil {
		return errors.New("url: must not contain credentials; use username and password")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("url: must not have a query or fragment")
	}
	if c.Timeout < 0 {
		return errors.New("timeout: must not be negative")
	}
	if c.ResendInterval < 0 {
		return errors.New("resend_interval: must not be negative")
	}
	if !c.BearerToken.IsZero() && (c.Username != "" || !c.Password.IsZero()) {
		return errors.New("bearer_token: set either bearer_token or username/password, not both")
	}
	if c.Username == "" && !c.Password.IsZero() {
		return errors.New("password: set without username")
	}
	if c.Username != "" && c.Password.IsZero() {
		return errors.New("password: required with username (file or env)")
	}
	if c.Password.File != "" && c.Password.Env != "" {
		return errors.New("password: set either file or env, not both")
	}
	if c.BearerToken.File != "" && c.BearerToken.Env != "" {
		return errors.New("bearer_token: set either file or env, not both")
	}
	if c.TLS.Enabled && u.Scheme != "https" {
		return errors.New("tls: enabled but url is not https")
	}
	if err := c.TLS.Validate(); err != nil {
		return fmt.Errorf("tls.%w", err)
	}
	if c.Source != "" && c.Source != SourceIncidents && c.Source != SourceDetections {
		return fmt.Errorf("source: %q is not %s or %s", c.Source, SourceIncidents, SourceDetections)
	}
	if c.GeneratorURL != "" {
		g, err := url.Parse(c.GeneratorURL)
		if err != nil || !g.IsAbs() {
			return fmt.Errorf("generator_url: %q is not an absolute URL", c.GeneratorURL)
		}
	}
	return nil
}

// redactURL returns raw with anything up to its last @ after the scheme
// (credentials someone wrote in it) replaced by ***, for error messages
// about a URL that may not parse.
func redactURL(raw string) string {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 && i < at {
		start = i + len("://")
	}
	return raw[:start] + "***" + raw[at:]
}

// LogValue logs the config without secrets (whether a password or a
// bearer token is set, not its value or source).
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", c.URL),
		slog.Duration("timeout", c.Timeout),
		slog.String("username", c.Username),
		slog.Bool("password_set", !c.Password.IsZero()),
		slog.Bool("bearer_token_set", !c.BearerToken.IsZero()),
		slog.Bool("tls", c.TLS.Enabled),
		slog.Duration("resend_interval", c.ResendInterval),
		slog.Bool("severity_label", c.SeverityLabel),
		slog.String("source", c.Source),
	)
}
