package config

import (
	"strings"
	"testing"
)

// TestTargetAddressCredentialsNotEchoed: a collector target address
// written with credentials (user:password@host:port, or a URL holding
// them) is refused without repeating the password, as kafka.brokers and
// clickhouse.addr already are. Before, the gNMI and SNMP target checks
// quoted the whole address, password included, in the error.
func TestTargetAddressCredentialsNotEchoed(t *testing.T) {
	for _, body := range []string{
		"collect:\n  gnmi:\n    targets:\n      - {name: a, address: \"admin:hunter2@h:57400\"}\nkafka:\n  brokers: [127.0.0.1:9092]\n",
		"collect:\n  gnmi:\n    targets:\n      - {name: a, address: \"gnmi://admin:hunter2@h\"}\nkafka:\n  brokers: [127.0.0.1:9092]\n",
		"collect:\n  snmp:\n    targets:\n      - {name: a, address: \"admin:hunter2@h:161\", community: {env: HOME}}\nkafka:\n  brokers: [127.0.0.1:9092]\n",
	} {
		_, err := Parse("c.yaml", []byte(body))
		if err == nil {
			t.Errorf("%q: accepted", body)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
}
