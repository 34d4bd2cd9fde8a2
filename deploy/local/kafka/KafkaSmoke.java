// Produce/consume round trip against the local broker, run by `kafka.sh smoke` with
// the Java single-file source launcher and the cached Kafka jars on the class path:
//   java -cp "<libs>/*" KafkaSmoke.java BOOTSTRAP TOPIC COUNT
import java.time.Duration;
import java.util.*;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.*;

public class KafkaSmoke {
  public static void main(String[] args) throws Exception {
    String bootstrap = args.length > 0 ? args[0] : "127.0.0.1:9092";
    String topic = args.length > 1 ? args[1] : "tk-smoke";
    int count = args.length > 2 ? Integer.parseInt(args[2]) : 100;
    long t0 = System.nanoTime();

    Properties common = new Properties();
    common.put("bootstrap.servers", bootstrap);
    try (Admin admin = Admin.create(common)) {
      try {
        admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
        System.out.println("created topic " + topic);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) throw e;
        System.out.println("topic " + topic + " exists");
      }
      TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
      System.out.println("partitions: " + d.partitions().size() + ", cluster id: "
          + admin.describeCluster().clusterId().get());
    }

    Properties pp = new Properties();
    pp.putAll(common);
    pp.put("acks", "all");
    pp.put("key.serializer", StringSerializer.class.getName());
    pp.put("value.serializer", StringSerializer.class.getName());
    String run = Long.toHexString(System.nanoTime());
    try (KafkaProducer<String, String> p = new KafkaProducer<>(pp)) {
      for (int i = 0; i < count; i++) p.send(new ProducerRecord<>(topic, "k" + i, run + ":" + i));
      p.flush();
    }
    System.out.println("produced " + count);

    Properties cp = new Properties();
    cp.putAll(common);
    cp.put("group.id", "tk-smoke-" + run);
    cp.put("auto.offset.reset", "earliest");
    cp.put("key.deserializer", StringDeserializer.class.getName());
    cp.put("value.deserializer", StringDeserializer.class.getName());
    Set<String> seen = new HashSet<>();
    long deadline = System.currentTimeMillis() + 30_000;
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp)) {
      c.subscribe(List.of(topic));
      while (seen.size() < count && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
          if (r.value().startsWith(run + ":")) seen.add(r.value());
        }
      }
      c.commitSync();
    }
    System.out.printf("consumed %d/%d in %.1fs%n", seen.size(), count, (System.nanoTime() - t0) / 1e9);
    if (seen.size() != count) System.exit(1);
  }
}
