package config

import (
	"strings"
	"testing"
)

// TestClickHouseAddrErrorKeepsPassword: README "Configuration": every
// secret is a {file:} or {env:} source and no value is ever logged. An
// address with credentials in clickhouse.addr (or --clickhouse) is refused
// without repeating it, as kafka.brokers refuses one. Before, the error
// line printed it whole, password included.
func TestClickHouseAddrErrorKeepsPassword(t *testing.T) {
	for _, y := range []string{
		"clickhouse: {addr: [\"default:s3cr3t-pw@ch.example:9000\"]}\n",
		"clickhouse: {addr: [\"clickhouse://default:s3cr3t-pw@ch.example:9000\"]}\n",
	} {
		_, err := Parse("pipeline.yaml", []byte(y))
		if err == nil {
			t.Errorf("%q accepted", y)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Errorf("the error line prints the password: %v", err)
		}
	}
}

// TestSecretTypeErrorNamesField: README "Configuration": each error is
// one line, FILE:LINE: path.to.field: problem. A secret written as a list
// names its field too. Before, it failed with "FILE:LINE: want {file:
// PATH} or {env: VAR}": no field, so in a file with four secret sections
// the reader had to guess which one.
func TestSecretTypeErrorNamesField(t *testing.T) {
	for field, y := range map[string]string{
		"clickhouse.password": "clickhouse:\n  password: [x]\n",
		"kafka.sasl.password": "kafka:\n  sasl: {mechanism: SCRAM-SHA-512, username: u, password: [x]}\n",
	} {
		_, err := Parse("pipeline.yaml", []byte(y))
		if err == nil {
			t.Errorf("%q accepted", y)
			continue
		}
		if !strings.Contains(err.Error(), field+":") {
			t.Errorf("%q: error %q does not name the field %s", y, err, field)
		}
	}
}
