"""Runs the modern ClickHouse layout in-process with chdb (the ClickHouse
engine as a Python module; it opens no port) for TestModernLayoutChDB.

Usage: chdb_modern.py SPEC.json. SPEC holds
  ddl:     statements, each applied twice (they must be idempotent)
  inserts: [{table, columns, file, times}]: Native-format files written by the
           Go driver's column encoders, inserted `times` times (re-delivery)
  queries: {name: sql}: run after the inserts
and the script prints {"version": ..., "results": {name: rows}} as JSON, rows
in JSONCompact form.
"""
import json
import sys

from chdb import session


def main():
    spec = json.load(open(sys.argv[1]))
    s = session.Session()
    for st in spec["ddl"]:
        s.query(st)
        s.query(st)
    for ins in spec["inserts"]:
        cols = ", ".join(ins["columns"])
        path = ins["file"].replace("'", "\\'")
        for _ in range(ins.get("times", 1)):
            s.query(f"INSERT INTO {ins['table']} ({cols}) SELECT {cols} FROM file('{path}', 'Native')")
    out = {"version": json.loads(s.query("SELECT version() AS v", "JSONCompact").bytes())["data"][0][0], "results": {}}
    for name, q in spec["queries"].items():
        r = s.query(q, "JSONCompact")
        out["results"][name] = json.loads(r.bytes())["data"]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
