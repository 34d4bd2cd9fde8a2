#!/usr/bin/env python3
"""Reads a telekernel samples table with pyarrow and prints it as JSON.

Usage: read_pyarrow.py TABLE_DIR

An independent reader for the Go interop test (sinks/parquet): every
*.parquet file under TABLE_DIR is read on its own, and the folder is read once
more as a Hive-partitioned dataset, as an analyst would. Output, one JSON
object on stdout:

  {"pyarrow": VERSION,
   "files": [{"path": REL_PATH, "schema": {COLUMN: ARROW_TYPE},
              "metadata": {KEY: VALUE}, "row_groups": [...], "rows": [...]}],
   "dataset": {"rows": N, "schema": {COLUMN: ARROW_TYPE}, "partitions": [[dt, hour, rows]]}}

Row values are exact: timestamps as integers in the column's unit, uint64 as
JSON integers (Python ints, no float64 rounding), doubles as float.hex()
strings (so NaN, infinities and every bit survive), nulls as null.
"""
import json
import os
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq


def column_values(col):
    t = col.type
    if pa.types.is_timestamp(t):
        return col.cast(pa.int64()).to_pylist()
    if pa.types.is_floating(t):
        return [None if v is None else float(v).hex() for v in col.to_pylist()]
    return col.to_pylist()


def stat(v):
    if v is None:
        return None
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.decode()
    return v


def read_file(table_dir, path):
    pf = pq.ParquetFile(path)
    table = pf.read()
    md = pf.metadata
    names = table.schema.names
    cols = {n: column_values(table.column(n)) for n in names}
    rows = [{n: cols[n][i] for n in names} for i in range(table.num_rows)]
    row_groups = []
    for i in range(md.num_row_groups):
        rg = md.row_group(i)
        entry = {"rows": rg.num_rows,
                 "sorting_columns": [[names[sc.column_index], sc.descending]
                                     for sc in (rg.sorting_columns or [])]}
        for j in range(rg.num_columns):
            c = rg.column(j)
            if c.path_in_schema == "device" and c.is_stats_set:
                entry["device_min"] = stat(c.statistics.min)
                entry["device_max"] = stat(c.statistics.max)
            elif c.path_in_schema == "ts" and c.is_stats_set:
                # The physical integers: statistics.min would make a
                # datetime, which needs pandas for nanoseconds.
                entry["ts_min"] = c.statistics.min_raw
                entry["ts_max"] = c.statistics.max_raw
        entry["compression"] = sorted({rg.column(j).compression for j in range(rg.num_columns)})
        entry["paths"] = [rg.column(j).path_in_schema for j in range(rg.num_columns)]
        row_groups.append(entry)
    kv = {k.decode(): v.decode() for k, v in (md.metadata or {}).items()}
    return {
        "path": os.path.relpath(path, table_dir),
        "schema": {f.name: str(f.type) for f in table.schema},
        "metadata": {k: v for k, v in kv.items() if k.startswith("telekernel.")},
        "row_groups": row_groups,
        "rows": rows,
    }


def main():
    table_dir = sys.argv[1]
    paths = []
    for dirpath, dirnames, filenames in os.walk(table_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for f in sorted(filenames):
            if f.endswith(".parquet") and not f.startswith((".", "_")):
                paths.append(os.path.join(dirpath, f))
    files = [read_file(table_dir, p) for p in sorted(paths)]

    dataset = ds.dataset(table_dir, format="parquet", partitioning="hive")
    table = dataset.to_table()
    parts = table.group_by(["dt", "hour"]).aggregate([("ts", "count")])
    partitions = sorted([str(d), int(h), int(n)] for d, h, n in zip(
        parts.column("dt").to_pylist(), parts.column("hour").to_pylist(),
        parts.column("ts_count").to_pylist()))
    out = {
        "pyarrow": pa.__version__,
        "files": files,
        "dataset": {
            "rows": table.num_rows,
            "schema": {f.name: str(f.type) for f in table.schema},
            "partitions": partitions,
            "u64_sum": str(pc.sum(table.column("value_u64").cast(pa.decimal128(38, 0))).as_py()),
        },
    }
    json.dump(out, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
