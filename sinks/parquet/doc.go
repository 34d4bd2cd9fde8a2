// Package parquet writes telekernel samples to Parquet files for the data
// lake. It is the storage half of the Parquet sink: a Kafka consumer of the
// tk.samples topic hands each decoded message to Writer.Add, calls
// Writer.Flush every few seconds or rows, and commits the consumed offsets
// only after Flush has returned the files it made durable.
//
// # Layout
//
// Files follow the Hive layout, partitioned by the UTC hour of each sample's
// timestamp:
//
//	ROOT/TABLE/dt=YYYY-MM-DD/hour=HH/TOPIC-PARTITION-FIRST-LAST.parquet
//
// where FIRST and LAST are the zero-padded (12 digit) Kafka offsets of the
// first and last message whose rows are in the file. One flush writes one
// file per (topic, partition, dt, hour) it holds rows for. Because a file is
// named by the offsets it holds and its content depends only on those
// messages, re-processing the same offsets after a crash rewrites the same
// file with the same bytes: re-delivery is harmless ("effectively once").
// A re-delivery may also flush at other offsets than the run that crashed
// before committing (polls and flush triggers depend on timing), which
// would make files whose offset ranges overlap and rows that are in two
// files; so before a file is renamed into place, the files of the same
// topic, partition and hour folder whose offset range overlaps it are
// removed. Such files can only come from flushes that never committed, and
// every one of their rows is written again (see Writer.Flush), so the lake
// holds each row once. A file that starts before the offset its partition
// was read from is kept, and logged at WARN: the group's offsets went back
// past committed files (a reset, or offsets that expired, after retention
// deleted the topic's head), so its earlier rows are read by no one again;
// the rows of the overlap are then in two files, none is lost. Offsets
// alone do not tell the messages of a topic that was deleted and recreated
// under the same name (Kafka starts it again at offset 0, and drops the
// group's offsets) from a re-delivery: each file records the Kafka
// timestamp of its first message (telekernel.first_offset_time_ms), and an
// overlapping file whose first message is not one the flush holds with that
// timestamp (a re-delivery holds it: it re-reads that message, with the same
// rows) is kept, renamed TOPIC-PARTITION-FIRST-LAST.tsMS.parquet (MS its
// timestamp), logged at WARN; readers still read it, and no later flush
// removes it. This relies on one writer per partition at a time, which
// the consumer group gives: Stage drops the rows it buffered of a
// partition the runner gave up without writing them (a failed flush on
// revocation, a lost session), so it never writes them under the next
// owner.
//
// Stage adapts a Writer to pipeline.Sink, for a pipeline.Runner.
// A file is written under a temporary name (".tmp-NAME-RANDOM", NAME the
// file's own) in its final directory, fsynced, renamed into place, and the
// directory is fsynced, so a reader never sees a partial file; files and
// directories whose names start with "." or "_" are not data.
//
// A crash between the create and the rename leaves the temporary file. Its
// flush did not commit, so the partition's next owner (this process
// restarted, or another member) re-reads those offsets and writes their
// rows into the same hour folders, each row's folder being its sample's
// hour; writing a file there, it removes the temporary files of the same
// topic and partition (by name: ".tmp-TOPIC-PARTITION-FIRST-LAST.parquet-
// RANDOM"), which no one else writes, and logs how many at INFO. Those of
// other partitions, which their owners may be writing right now, are left
// alone. A leftover it cannot remove (permissions, a sticky directory, a
// read-only entry) does not stop the writing: it is logged at WARN, once
// per file, and may be removed by hand, as it holds no row that is not
// written again. A leftover whose offsets are never read again (deleted by the
// topic's retention before the restart, or under an old Root or Table)
// stays; it is only disk space, as readers skip it.
//
// # Columns
//
//	ts         INT64 TIMESTAMP(MICROS, UTC) (NANOS with timestamp_unit "ns"), DELTA_BINARY_PACKED
//	device     BYTE_ARRAY STRING, dictionary
//	metric     BYTE_ARRAY STRING, dictionary
//	keys       BYTE_ARRAY STRING, dictionary
//	kind       INT32 INT(8, unsigned)          (1 counter, 2 gauge, 3 state)
//	value_u64  optional INT64 INT(64, unsigned) (counters, full 64-bit precision)
//	value_f64  optional DOUBLE                  (gauges)
//	value_str  optional BYTE_ARRAY STRING, dictionary (states)
//	source     BYTE_ARRAY STRING, dictionary
//
// pyarrow reads these as timestamp[us, tz=UTC], string, uint8, uint64,
// double; DuckDB as TIMESTAMP WITH TIME ZONE, VARCHAR, UTINYINT, UBIGINT,
// DOUBLE. Microseconds are the default because Spark and other older readers
// cannot read TIMESTAMP(NANOS); the nanosecond part of a timestamp is then
// dropped (rounded towards minus infinity). Pages are compressed with zstd
// by default and written as data page v1, which every reader supports.
//
// Within a file, rows are sorted by (device, metric, keys, ts), ties kept in
// arrival order, and the row groups declare that order, so the min/max
// statistics of each row group and page let query engines skip data. The
// file's key-value metadata names the contract (telekernel.schema=samples,
// telekernel.version) and the source (telekernel.topic, telekernel.partition,
// telekernel.first_offset, telekernel.last_offset,
// telekernel.first_offset_time_ms); see ReadFileInfo.
//
// # Memory
//
// The Writer buffers rows compactly, 48 bytes per row (plus the slack of
// slice growth) and one copy of each distinct string (device, metric, keys,
// source, state value) per partition; there are no per-row maps or
// interfaces. Flush needs 28 more bytes per row for sorting and the
// encoder's buffers for one row group (Config.RowGroupRows). Nothing bounds
// the buffer by itself: the caller flushes every few seconds or when
// BufferedRows reaches its limit (for example 1 M rows, about 50 MiB), and
// does not poll while a flush runs, so a slow disk slows the consumer
// instead of growing memory. After Flush the buffers keep their capacity for
// reuse; partitions idle for a whole flush interval, or dropped with
// Discard, give it back.
package parquet
