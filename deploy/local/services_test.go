// Package local holds the scripts that install and start the services the
// integration tests use; this test proves each one answers as the tests
// expect, with the clients the product uses.
package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/gosnmp/gosnmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telekernel/telekernel/internal/testenv"
)

func suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestKafkaTransactions checks the broker takes transactional writes and
// that a read-committed consumer sees only committed ones.
func TestKafkaTransactions(t *testing.T) {
	addr := testenv.Service(t, "TK_KAFKA")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topic := "local-test-" + suffix()
	adm, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err := kadm.NewClient(adm).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	p, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("local-test-"+suffix()), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i, commit := range []bool{true, false, true} {
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := p.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []string
	for len(got) < 2 && ctx.Err() == nil {
		c.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if len(got) != 2 || got[0] != "0" || got[1] != "2" {
		t.Fatalf("read-committed consumer saw %v, want [0 2]", got)
	}
	if _, err := kadm.NewClient(adm).DeleteTopics(ctx, topic); err != nil {
		t.Log(err)
	}
}

// TestClickHouse checks the server answers on the native protocol.
func TestClickHouse(t *testing.T) {
	addr := testenv.Service(t, "TK_CLICKHOUSE")
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := conn.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	var one uint8
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1: %v %v", one, err)
	}
	t.Logf("ClickHouse %s", v)
}

// TestSNMP checks both the v2c community and the v3 authPriv user can read
// sysUpTime and walk the ifXTable with GetBulk.
func TestSNMP(t *testing.T) {
	addr := testenv.Service(t, "TK_SNMP_ADDR")
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("TK_SNMP_ADDR: %v", err)
	}
	port, _ := strconv.Atoi(portStr)
	v2 := &gosnmp.GoSNMP{Target: host, Port: uint16(port), Version: gosnmp.Version2c,
		Community: env("TK_SNMP_COMMUNITY", "tk-public"), Timeout: 2 * time.Second, Retries: 1}
	v3 := &gosnmp.GoSNMP{Target: host, Port: uint16(port), Version: gosnmp.Version3, Timeout: 2 * time.Second, Retries: 1,
		SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.AuthPriv,
		SecurityParameters: &gosnmp.UsmSecurityParameters{
			UserName:                 env("TK_SNMP_V3_USER", "tkuser"),
			AuthenticationProtocol:   gosnmp.SHA,
			AuthenticationPassphrase: env("TK_SNMP_V3_AUTH_PASS", "tk-auth-pass"),
			PrivacyProtocol:          gosnmp.AES,
			PrivacyPassphrase:        env("TK_SNMP_V3_PRIV_PASS", "tk-priv-pass"),
		}}
	for name, g := range map[string]*gosnmp.GoSNMP{"v2c": v2, "v3 authPriv": v3} {
		if err := g.Connect(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res, err := g.Get([]string{".1.3.6.1.2.1.1.3.0"})
		if err != nil || len(res.Variables) != 1 || res.Variables[0].Type != gosnmp.TimeTicks {
			t.Fatalf("%s: sysUpTime: %+v %v", name, res, err)
		}
		rows := 0
		if err := g.BulkWalk(".1.3.6.1.2.1.31.1.1.1.6", func(gosnmp.SnmpPDU) error { rows++; return nil }); err != nil || rows == 0 {
			t.Fatalf("%s: walk of ifHCInOctets: %d rows, %v", name, rows, err)
		}
		g.Conn.Close()
	}
	bad := &gosnmp.GoSNMP{Target: host, Port: uint16(port), Version: gosnmp.Version2c,
		Community: "wrong", Timeout: 500 * time.Millisecond}
	if err := bad.Connect(); err != nil {
		t.Fatal(err)
	}
	defer bad.Conn.Close()
	if _, err := bad.Get([]string{".1.3.6.1.2.1.1.3.0"}); err == nil {
		t.Fatal("a wrong community was answered")
	}
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
