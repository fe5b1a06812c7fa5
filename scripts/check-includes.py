#!/usr/bin/env python3
"""Check the #include graph of src/ against the order in docs/architecture.md.

The order is the fenced block after the marker `<!-- include-order -->` in
docs/architecture.md §3: one line per component, `name: what it may include`.
A component is a folder of src/, except src/blob/format.h, which is the
component `format` on its own (the format's constants, below read/ and write/).
A dependency written as a path ("blobstore/s3_int.h") allows that one header
of another component, not the whole component; one starting with "../" names
a header outside src/ by its path from src/ ("../bench/movies_gen.h").
Public headers ("hollow/...") and system headers are always allowed.

Fails (exit 1) when a file includes a component its own may not include, when
a quoted include names no file, when the documented order itself has a cycle,
or when the file-level include graph has a cycle.

Usage: check-includes.py [REPO_ROOT]   (default: the parent of scripts/)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def component(rel):
    """The component of a path relative to src/ ("blob/format.h" -> format)."""
    if rel == "blob/format.h":
        return "format"
    return rel.split("/", 1)[0] if "/" in rel else ""


def read_order(doc):
    text = open(doc, encoding="utf-8").read()
    m = re.search(r"<!-- include-order -->\s*```[^\n]*\n(.*?)```", text, re.S)
    if m is None:
        sys.exit("check-includes: no include-order block in %s" % doc)
    allowed = {}
    for line in m.group(1).splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, deps = line.partition(":")
        allowed[name.strip()] = set(deps.split())
    for name, deps in allowed.items():
        for d in deps:
            if d.startswith("../"):
                continue  # a header outside src/, checked where included
            if "/" in d:
                if component(d) not in allowed:
                    sys.exit("check-includes: %s may include %s of unknown "
                             "component" % (name, d))
                continue
            if d not in allowed:
                sys.exit("check-includes: %s may include unknown component %s"
                         % (name, d))
    return allowed


def find_cycle(graph):
    """A list of nodes forming a cycle in graph (dict node -> set), or None."""
    state = {}
    stack = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    src = os.path.join(root, "src")
    allowed = read_order(os.path.join(root, "docs", "architecture.md"))
    errors = []
    cyc = find_cycle({n: {component(d) if "/" in d else d for d in ds}
                      for n, ds in allowed.items()})
    if cyc:
        errors.append("documented order has a cycle: " + " -> ".join(cyc))

    files = {}
    for d, _, names in os.walk(src):
        for n in names:
            if n.endswith((".c", ".h", ".cc")):
                rel = os.path.relpath(os.path.join(d, n), src)
                files[rel] = open(os.path.join(d, n), encoding="utf-8").read()

    graph = {}
    for rel in sorted(files):
        comp = component(rel)
        if comp not in allowed:
            errors.append("%s: component %s is not in the documented order"
                          % (rel, comp or "(top level)"))
            continue
        graph[rel] = set()
        for inc in INCLUDE.findall(files[rel]):
            if inc.startswith("hollow/"):
                continue  # public headers
            here = os.path.normpath(os.path.join(os.path.dirname(rel), inc))
            target = here if here in files else os.path.normpath(inc)
            outside = [d for d in allowed[comp] if d.startswith("../") and
                       os.path.basename(d) == os.path.basename(inc) and
                       os.path.isfile(os.path.join(src, d))]
            if target not in files and outside:
                continue
            if target not in files:
                errors.append("%s: includes \"%s\", which is not under src/"
                              % (rel, inc))
                continue
            graph[rel].add(target)
            tc = component(target)
            if tc != comp and tc not in allowed[comp] and \
                    target not in allowed[comp]:
                errors.append("%s: includes %s (%s may not include %s)"
                              % (rel, target, comp, tc))
    cyc = find_cycle(graph)
    if cyc:
        errors.append("include cycle: " + " -> ".join(cyc))
    for e in errors:
        print("check-includes: " + e, file=sys.stderr)
    if errors:
        return 1
    print("check-includes: %d files, %d components, order respected"
          % (len(graph), len(allowed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
