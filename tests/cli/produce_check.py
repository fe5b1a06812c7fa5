#!/usr/bin/env python3
"""Check that a deep dump (hollow-cli consume --deep TYPE) holds exactly the
records of a data file (.json, .jsonl or .csv): every record of the file
matches a record of the dump and every record of the dump matches one of the
file (identical records are one Hollow record). Values are compared by the
dump's shape: a one-field wrapper {"value": x} or enum {"_name": x} compares
its value; an object field by field (a missing key or an empty CSV cell is
null; keys the type lacks are ignored); a list element by element (a CSV cell
holds JSON, or comma-separated scalars); numbers by value.
usage: produce_check.py DEEP_DUMP DATA_FILE   (exit 0: same, 1: differ)"""
import csv
import json
import sys


def scalar_eq(d, f):
    if isinstance(d, bool):
        return f is d or (isinstance(f, str) and f.lower() == str(d).lower())
    if isinstance(d, (int, float)):
        try:
            return float(f) == float(d) and not isinstance(f, bool)
        except (TypeError, ValueError):
            return False
    return isinstance(f, str) and f == d


def eq(d, f):
    if f == "" and d is None:  # an empty CSV cell is null
        return True
    if d is None or f is None:
        return d is None and f is None
    if isinstance(d, dict) and len(d) == 1 and ("value" in d or "_name" in d):
        return eq(next(iter(d.values())), f)
    if isinstance(d, dict):
        if isinstance(f, str):
            try:
                f = json.loads(f)
            except ValueError:
                return False
        if not isinstance(f, dict):
            return False
        return all(eq(v, f.get(k)) for k, v in d.items())
    if isinstance(d, list):
        if isinstance(f, str):
            try:
                f = json.loads(f) if f.startswith("[") else f.split(",")
            except ValueError:
                return False
        if not isinstance(f, list) or len(f) != len(d):
            return False
        return all(eq(a, b) for a, b in zip(d, f))
    return scalar_eq(d, f)


def records(path):
    if path.endswith(".csv"):
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    with open(path, encoding="utf-8") as fh:
        if path.endswith(".jsonl") or path.endswith(".ndjson"):
            return [json.loads(line) for line in fh if line.strip()]
        data = json.load(fh)
    return data if isinstance(data, list) else [data]


def main():
    dump = json.load(open(sys.argv[1], encoding="utf-8"))
    recs = records(sys.argv[2])
    deep = dump["records"]
    bad = 0
    if dump["count"] != len(deep):
        print("count %d but %d records" % (dump["count"], len(deep)))
        bad += 1
    for i, r in enumerate(recs):
        if not any(eq(d, r) for d in deep):
            print("record %d of %s is not in the dump: %s" % (i + 1, sys.argv[2], r))
            bad += 1
    for d in deep:
        if not any(eq(d, r) for r in recs):
            print("dump record not in %s: %s" % (sys.argv[2], json.dumps(d)))
            bad += 1
    if not recs or not deep:
        print("no records")
        bad += 1
    sys.exit(1 if bad else 0)


main()
