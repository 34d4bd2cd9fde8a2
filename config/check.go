package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/telekernel/telekernel/kafka"
)

// validateResources checks what a start would refuse beyond the values:
// secrets that do not load, TLS files that are missing or do not match, an
// endpoint address that cannot be listened on, a Parquet root that cannot
// be written. It reads files and the environment but changes nothing
// except a probe file it removes at once.
func (c *Config) validateResources() error {
	if err := c.Kafka.ValidateFiles(); err != nil {
		return fmt.Errorf("kafka.%w", err)
	}
	if ch := c.ClickHouse; len(ch.Addr) > 0 && c.Runs("clickhouse") {
		if err := ch.TLS.Validate(); err != nil {
			return fmt.Errorf("clickhouse.tls.%w", err)
		}
		if _, err := ch.WithDefaults().Password.Load(); err != nil {
			field := "password"
			if ch.PasswordFile != "" {
				field = "password_file"
			}
			return fmt.Errorf("clickhouse.%s: %w", field, err)
		}
	}
	if am := c.Alertmanager; am.URL != "" && c.Runs("alertmanager") {
		if _, err := am.Password.Load(); err != nil {
			return fmt.Errorf("alertmanager.password: %w", err)
		}
		if _, err := am.BearerToken.Load(); err != nil {
			return fmt.Errorf("alertmanager.bearer_token: %w", err)
		}
	}
	if err := c.HTTP.Validate(); err != nil {
		return fmt.Errorf("http.%w", err)
	}
	if *c.Parquet.Enabled && c.Runs("parquet") {
		if err := writableDir(c.Parquet.Root); err != nil {
			return fmt.Errorf("parquet.root: %w", err)
		}
	}
	if *c.Sim.Enabled {
		if err := writableDir(filepath.Dir(c.Sim.LabelsFile)); err != nil {
			return fmt.Errorf("sim.labels_file: %w", err)
		}
	}
	return nil
}

// validateTopics checks the topic names and the group prefix against
// Kafka's rules (1 to 249 of a-z A-Z 0-9 . _ -, not "." or ".."), which the
// broker would otherwise enforce at start.
func (c *Config) validateTopics() error {
	t := c.Topics
	for _, f := range []struct{ field, name string }{
		{"samples", t.Samples}, {"detections", t.Detections}, {"dead_letters", t.DeadLetters},
		{"alert_state", t.AlertState}, {"power", t.Power}, {"maintenance", t.Maintenance}, {"group_prefix", t.GroupPrefix},
	} {
		if err := kafka.CheckTopicName(f.name); err != nil {
			return fmt.Errorf("topics.%s: %w", f.field, err)
		}
	}
	// The stages' changelogs are GROUP_PREFIX-STAGE-changelog, STAGE at
	// most correlate-route; Kafka takes topic names up to 249 characters.
	const stageSuffix = len("-correlate-route-changelog")
	if len(t.GroupPrefix) > 249-stageSuffix {
		return fmt.Errorf("topics.group_prefix: %d characters is too long: the stages' changelog topics (GROUP_PREFIX-STAGE-changelog, up to %d characters more) must fit Kafka's 249; keep it to %d",
			len(t.GroupPrefix), stageSuffix, 249-stageSuffix)
	}
	// A dead letter keeps its record's value and headers: on a topic a
	// stage reads, it would be read, refused and dead-lettered again, for
	// ever.
	for _, f := range []struct{ field, name string }{
		{"topics.samples", t.Samples}, {"topics.detections", t.Detections}, {"topics.alert_state", t.AlertState},
		{"topics.power", t.Power}, {"topics.maintenance", t.Maintenance},
		{"correlate.topic", c.Correlate.Topic}, {"correlate.input", c.Correlate.Input}, {"inventory.topic", c.Inventory.Topic},
	} {
		if f.name == t.DeadLetters {
			return fmt.Errorf("topics.dead_letters: %q is %s, which stages read: a dead letter would come back to them for ever; name a topic of its own", t.DeadLetters, f.field)
		}
	}
	// The correlate route reads the detections and writes them to
	// correlate.input; the correlate stage writes incidents, the inventory
	// stage inventory records. Any of those on a topic of the others, or
	// two on one, would be read back for ever or mixed into what every
	// consumer of that topic reads.
	own := []struct{ field, name string }{
		{"correlate.input", c.Correlate.Input}, {"correlate.topic", c.Correlate.Topic}, {"inventory.topic", c.Inventory.Topic},
	}
	others := []struct{ field, name string }{
		{"topics.samples", t.Samples}, {"topics.detections", t.Detections}, {"topics.alert_state", t.AlertState},
		{"topics.power", t.Power}, {"topics.maintenance", t.Maintenance},
	}
	for i, f := range own {
		for _, g := range append(slices.Clip(others), own[:i]...) {
			if f.name == g.name {
				return fmt.Errorf("%s: %q is %s too: each needs a topic of its own", f.field, f.name, g.field)
			}
		}
	}
	return nil
}

// writableDir reports whether dir is, or can be created as, a folder this
// process can write in: the nearest existing folder on the path must be a
// folder, and a probe file can be created in it.
func writableDir(dir string) error {
	p := filepath.Clean(dir)
	for {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a folder (%s is a file)", dir, p)
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("cannot use %s: %w", dir, err)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return fmt.Errorf("cannot use %s: no part of it exists", dir)
		}
		p = parent
	}
	f, err := os.CreateTemp(p, ".telekernel-check-*")
	if err != nil {
		why := strings.TrimPrefix(unwrapPath(err), "open ")
		if p != filepath.Clean(dir) {
			// Name the folder asked for, which does not exist yet:
			// "cannot write in /proc" alone reads as if /proc were
			// missing.
			return fmt.Errorf("cannot create %s: cannot write in %s: %s", dir, p, why)
		}
		return fmt.Errorf("cannot write in %s: %s", p, why)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// unwrapPath returns the reason of a *PathError without repeating the path.
func unwrapPath(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
