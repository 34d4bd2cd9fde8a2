// Package kafka is telekernel's small Kafka package: the connection config
// (brokers, TLS through tlsfiles.Config, whose CA, client certificate and
// key files are loaded again at every new broker connection when they
// changed (tlsfiles.Live), SASL with the password from a secret.Source,
// read again from its file at every connection's authentication, so a
// rotated password or certificate needs no restart) and Connect, which
// fails at start with one actionable line
// when no broker answers; topic names (the defaults, CheckTopicName) and
// creation (EnsureTopics); ReadAll, which reads a topic to its end as of the
// call; and Headers/RecordHeaders, which convert record headers to and from
// the form the schemas codecs take.
//
// Collectors, the stage runtime (pipeline), the stages and the sinks all
// connect through it; it imports nothing of the project but the leaf
// utilities and schemas.
package kafka
