// Deletes the named topics from the local broker, run by `kafka.sh prune` with the
// Java single-file source launcher and the cached Kafka jars on the class path:
//   java -cp "<libs>/*" KafkaPrune.java BOOTSTRAP TOPIC...
// A topic already gone is not an error.
import java.util.*;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

public class KafkaPrune {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", args[0]);
    List<String> topics = Arrays.asList(args).subList(1, args.length);
    int deleted = 0;
    try (Admin admin = Admin.create(p)) {
      for (Map.Entry<String, ? extends org.apache.kafka.common.KafkaFuture<Void>> e :
          admin.deleteTopics(topics).topicNameValues().entrySet()) {
        try {
          e.getValue().get();
          deleted++;
        } catch (ExecutionException x) {
          if (!(x.getCause() instanceof UnknownTopicOrPartitionException)) {
            System.err.println("cannot delete topic " + e.getKey() + ": " + x.getCause().getMessage());
          }
        }
      }
    }
    System.out.println("deleted " + deleted + " of " + topics.size() + " idle test topics");
  }
}
