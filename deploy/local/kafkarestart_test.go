package local

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKafkaRestartKeepsSASLUser: start makes the configured SCRAM user
// log in over SASL_SSL whatever the storage holds. The local broker of
// this machine, restarted from a metadata log of many make test runs,
// had no SCRAM credential at all, though the log held the user's records
// and no removal of it (Kafka 4.1.1; not reproduced on fresh storage by
// restarts, by another user created and deleted, or by 400 topics created
// and deleted), and the script, trusting its marker file, did not set it
// again. Here the user's credential is deleted on the running broker, as
// that broker had lost it, and the broker restarted.
func TestKafkaRestartKeepsSASLUser(t *testing.T) {
	k := newOwnKafka(t, t.TempDir())
	k.start()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	cl, err := kgo.NewClient(kgo.SeedBrokers(k.addr))
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	user := cmp.Or(os.Getenv("TK_KAFKA_SASL_USER"), "tk")
	pass := cmp.Or(os.Getenv("TK_KAFKA_SASL_PASSWORD"), "tk-kafka-pass")
	res, err := adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: user, Mechanism: kadm.ScramSha512}}, nil)
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		t.Fatalf("deleting the credential of %s: %v", user, err)
	}
	cl.Close()
	k.script("stop")
	k.script("start")

	if err := saslPing(ctx, k.saslAddr, caPoolAt(t, filepath.Join(k.localDir, "tls", "ca.pem")), user, pass); err != nil {
		t.Fatalf("user %s after a restart: %v", user, err)
	}
}
