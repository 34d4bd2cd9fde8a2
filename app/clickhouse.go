package app

import (
	"fmt"

	"github.com/telekernel/telekernel/config"
	"github.com/telekernel/telekernel/sinks/clickhouse"
)

// ClickHouseConfig is the sink's connection config for the clickhouse
// section of a config file, the password loaded from its source.
func ClickHouseConfig(c config.ClickHouse) (clickhouse.Config, error) {
	pw, err := c.Password.Load()
	if err != nil {
		return clickhouse.Config{}, fmt.Errorf("clickhouse.password: %w", err)
	}
	return clickhouse.Config{
		Addr: c.Addr, Database: c.Database, Username: c.Username, Password: pw.Reveal(),
		TLS: clickhouse.TLSConfig{Enable: c.TLS.Enabled, CAFile: c.TLS.CAFile, CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile,
			ServerName: c.TLS.ServerName, InsecureSkipVerify: c.TLS.InsecureSkipVerify},
		Cluster: c.Cluster,
	}, nil
}
