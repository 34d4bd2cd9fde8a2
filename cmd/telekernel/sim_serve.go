package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/telekernel/telekernel/app"
	"github.com/telekernel/telekernel/collectors/sim"
	"github.com/telekernel/telekernel/collectors/sim/agent"
	"github.com/telekernel/telekernel/collectors/snmp"
	"github.com/telekernel/telekernel/config"
)

// simServe are the flags of `telekernel sim --serve DIR`.
type simServe struct {
	dir      string
	gnmiPort int
	snmpAddr string
	tls      bool
}

// serveFleet serves the simulated fleet as devices: a gNMI server per
// device (ports gnmiPort, gnmiPort+1, ... or any free ones) and one SNMP
// v2c responder whose community names the device. It writes into s.dir the
// ground-truth labels, the community files, the TLS material (with --tls)
// and collector configs for `telekernel collect gnmi|snmp -c FILE`, then
// steps the fleet at the configured speed until ctx ends or the span is
// over.
func serveFleet(ctx context.Context, cfg *config.Config, s simServe, out io.Writer, log *slog.Logger) error {
	sc := cfg.Sim.Fleet()
	if sc.Start.IsZero() {
		sc.Start = time.Now().Add(-cfg.Sim.Backfill).Truncate(sc.Interval).UTC()
	}
	fleet, err := sim.New(sc)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(s.dir, "community"), 0o755); err != nil {
		return fmt.Errorf("sim --serve: %w", err)
	}
	dir, err := filepath.Abs(s.dir)
	if err != nil {
		return err
	}
	labels := filepath.Join(dir, "labels.jsonl")
	if err := app.WriteLabels(labels, fleet.Labels()); err != nil {
		return err
	}
	opts := []agent.Option{agent.WithLogger(log)}
	var pki *agent.PKI
	if s.tls {
		if pki, err = agent.NewPKI(filepath.Join(dir, "pki")); err != nil {
			return fmt.Errorf("sim --serve: %w", err)
		}
		opts = append(opts, agent.WithTLS(pki.ServerTLS(false)))
	}
	devices, err := agent.New(agent.Config{BasePort: s.gnmiPort}, fleet, opts...)
	if err != nil {
		return err
	}
	defer devices.Close()
	snmpd, err := devices.ServeSNMP(s.snmpAddr, 2)
	if err != nil {
		return err
	}
	defer snmpd.Close()

	brokers := cfg.Kafka.Brokers
	if len(brokers) == 0 {
		brokers = []string{"127.0.0.1:9092"}
	}
	var gnmiTargets, snmpTargets []map[string]any
	for _, t := range devices.Targets() {
		gt := map[string]any{"name": t.Name, "address": t.Addr, "stall_timeout": app.SimStallTimeout(sc.Interval, float64(cfg.Sim.Speed)).String()}
		if pki != nil {
			gt["tls"] = map[string]any{"enabled": true, "ca_file": pki.CAFile}
		}
		gnmiTargets = append(gnmiTargets, gt)
		community := filepath.Join(dir, "community", t.Name)
		if err := os.WriteFile(community, []byte(t.Name+"\n"), 0o600); err != nil {
			return fmt.Errorf("sim --serve: %w", err)
		}
		snmpTargets = append(snmpTargets, map[string]any{"name": t.Name, "address": snmpd.Addr(),
			"community": map[string]any{"file": community}, "interval": sc.Interval.String(),
			"mibs": []string{snmp.MIBInterfaces, snmp.MIBEntity, snmp.MIBBGP, snmp.MIBLLDP}})
	}
	base := map[string]any{"kafka": map[string]any{"brokers": brokers}, "topics": map[string]any{"samples": cfg.Topics.Samples}}
	gnmiCfg := map[string]any{"targets": gnmiTargets,
		"subscriptions": []map[string]any{{"name": "fleet", "paths": []string{"/"}, "sample_interval": sc.Interval.String()}}}
	files := map[string]map[string]any{
		"collect-gnmi.yaml": merge(base, "collect", map[string]any{"gnmi": gnmiCfg}),
		"collect-snmp.yaml": merge(base, "collect", map[string]any{"snmp": map[string]any{"targets": snmpTargets}}),
	}
	for name, doc := range files {
		b, err := yaml.Marshal(doc)
		if err != nil {
			return err
		}
		head := "# Written by `telekernel sim --serve` for `telekernel collect " + name[len("collect-"):len(name)-len(".yaml")] + " -c FILE`.\n"
		if err := os.WriteFile(filepath.Join(dir, name), append([]byte(head), b...), 0o644); err != nil {
			return fmt.Errorf("sim --serve: %w", err)
		}
	}
	tlsNote := ""
	if s.tls {
		tlsNote = " (TLS)"
	}
	fmt.Fprintf(out, "serving %d simulated devices: gNMI on %s .. %s%s, SNMP v2c on udp %s (community = device name)\n",
		len(devices.Targets()), devices.Targets()[0].Addr, devices.Targets()[len(devices.Targets())-1].Addr, tlsNote, snmpd.Addr())
	fmt.Fprintf(out, "collector configs: %s, %s; labels: %s\n", filepath.Join(dir, "collect-gnmi.yaml"), filepath.Join(dir, "collect-snmp.yaml"), labels)
	// A step sent before anyone listens is lost to gNMI, so the replay
	// waits for the first collector: every device subscribed, or an SNMP
	// request.
	fmt.Fprintln(out, "waiting for a collector (all devices subscribed over gNMI, or an SNMP request) before stepping")
	for ctx.Err() == nil {
		req, _ := snmpd.Served()
		if devices.Stats().Subscribers >= int64(len(devices.Targets())) || req > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	err = devices.Run(ctx, float64(cfg.Sim.Speed), cfg.Sim.Span)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func merge(base map[string]any, key string, v any) map[string]any {
	out := map[string]any{key: v}
	for k, x := range base {
		out[k] = x
	}
	return out
}
