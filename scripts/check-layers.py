#!/usr/bin/env python3
"""Checks every #include in src/, tests/ and bench/ against the layer table (docs/layers.txt).

In the spirit of Chromium's checkdeps: the table says which src/ folder may include which
other folders and which "pseudo-layers" (third-party headers such as <openssl/...> that any
file could reach through /usr/include, so the include path cannot stop them). The build
already stops a folder from including a project folder it does not link (each library
exposes only its own include root, see CMakeLists.txt); this check says whether that link is
allowed at all, and covers the system headers.

  scripts/check-layers.py [--root DIR] [--table FILE]   check the tree; exit 1 on a violation
  scripts/check-layers.py --graph                       print who includes what, per rule
  (also checks that docs/design.md quotes the table's rules unchanged, in a ```layers block)
  scripts/check-layers.py --self-test                   plant bad includes in a temp tree and
                                                        check that each one is reported

Rules (see docs/layers.txt for the format):
  - A source file under src/ is judged by the most specific rule whose path is a prefix of
    its path relative to src/ ("policy/builtins/x509" beats "policy/builtins" beats
    "policy"). Every folder directly under src/ must have a rule.
  - A file may include headers of its own directory (and below) without a rule, and
    quoted includes without a slash (a header beside it).
  - tests/<layer>/ may include what any src rule inside <layer> may include, <layer> itself,
    what a `tests/<layer>` line adds, and what the `tests` line gives every test. A fuzz
    target tests/fuzz/<layer>_*_fuzz.cc is held to tests/<layer>'s rules (plus a `tests/fuzz`
    line); bench has its own line.
  - Angle includes that match no pseudo-layer (the standard library, Boost.JSON, gtest...)
    are not checked.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SOURCE_EXT = (".h", ".hpp", ".cc", ".cpp", ".c", ".inc")


class Table:
    def __init__(self):
        self.pseudo = {}  # "<openssl>" -> ["openssl/", ...]
        self.rules = {}  # "policy/builtins" or "tests/ws" -> set of entries
        self.lines = {}  # rule path -> line number, for messages


def parse_table(path, lines=None):
    t = Table()
    if lines is None:
        with open(path) as f:
            lines = f.read().splitlines()
    for n, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "=" in line and line.startswith("<"):
            name, patterns = line.split("=", 1)
            t.pseudo[name.strip()] = patterns.split()
            continue
        if ":" not in line:
            raise SystemExit(f"{path}:{n}: expected `<path>: <allowed> ...` or `<name> = <patterns>`")
        key, allowed = line.split(":", 1)
        key = key.strip().rstrip("/")
        if key in t.rules:
            raise SystemExit(f"{path}:{n}: duplicate rule for {key}")
        t.rules[key] = set(allowed.split())
        t.lines[key] = n
    for key, allowed in t.rules.items():
        for a in allowed:
            if a.startswith("<") and a not in t.pseudo:
                raise SystemExit(f"{path}:{t.lines[key]}: {a} is not a declared pseudo-layer")
    return t


def pseudo_of(table, header):
    """The pseudo-layer an angle include belongs to, or None."""
    for name, patterns in table.pseudo.items():
        for p in patterns:
            if (p.endswith("/") and header.startswith(p)) or header == p:
                return name
    return None


def src_rule(table, rel):
    """The most specific rule key for a path relative to src/ (e.g. "media/sfu/room.cc")."""
    best = None
    for key in table.rules:
        if key.startswith(("tests/", "bench")) or key in ("tests",):
            continue
        if rel == key or rel.startswith(key + "/") or (rel.startswith(key) and rel[len(key)] == "."):
            if best is None or len(key) > len(best):
                best = key
    return best


def allowed_quoted(entries, header):
    for e in entries:
        if not e.startswith("<") and (header == e or header.startswith(e.rstrip("/") + "/")):
            return True
    return False


def walk(root, top):
    base = os.path.join(root, top)
    for dirpath, dirnames, files in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d not in ("node_modules", "corpus", "data"))
        for name in sorted(files):
            if name.endswith(SOURCE_EXT):
                yield os.path.relpath(os.path.join(dirpath, name), root)


def includes(root, path):
    with open(os.path.join(root, path), errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE_RE.match(line)
            if m:
                yield n, m.group(1), m.group(2)


def quoted_table(doc):
    """The rules quoted in docs/design.md's ```layers block, as (pseudo, rules), or None."""
    with open(doc) as f:
        text = f.read()
    m = re.search(r"^```layers\n(.*?)^```", text, re.S | re.M)
    if not m:
        return None
    t = parse_table(doc + " (```layers block)", m.group(1).splitlines())
    return t


def compare_doc(table, doc):
    errors = []
    quoted = quoted_table(doc)
    if quoted is None:
        return [f"{doc}: no ```layers block quoting the rules of docs/layers.txt"]
    for what, a, b in (("pseudo-layer", table.pseudo, quoted.pseudo),
                       ("rule", table.rules, quoted.rules)):
        for k in sorted(set(a) | set(b)):
            if k not in b:
                errors.append(f"{doc}: the quoted table lacks the {what} `{k}` of docs/layers.txt")
            elif k not in a:
                errors.append(f"{doc}: quotes a {what} `{k}` that docs/layers.txt does not have")
            elif sorted(a[k]) != sorted(b[k]):
                errors.append(f"{doc}: the quoted {what} `{k}` differs from docs/layers.txt")
    return errors


def check(root, table, graph=None):
    errors = []
    layers = sorted(d for d in os.listdir(os.path.join(root, "src"))
                    if os.path.isdir(os.path.join(root, "src", d)))
    for layer in layers:
        if layer not in table.rules:
            errors.append(f"src/{layer}/: no rule in the layer table; add a `{layer}: ...` line "
                          "saying which folders it may include")

    def judge(path, key, entries, self_prefixes):
        for n, kind, header in includes(root, path):
            if kind == "<":
                p = pseudo_of(table, header)
                if p is None:
                    continue
                if graph is not None:
                    graph.setdefault(key, set()).add(p)
                if p not in entries:
                    errors.append(f"{path}:{n}: #include <{header}>: {p} is not allowed in "
                                  f"`{key}` (allowed: {' '.join(sorted(entries)) or 'nothing'})")
                continue
            if "/" not in header:
                continue  # a header beside the file
            first = header.split("/", 1)[0]
            if first not in layers:
                continue  # a relative path inside the folder (e.g. "loadtest/x.h"), or generated
            if any(header.startswith(s) for s in self_prefixes):
                continue
            if graph is not None:
                graph.setdefault(key, set()).add("/".join(header.split("/")[:-1]) or header)
            if not allowed_quoted(entries, header):
                errors.append(f"{path}:{n}: #include \"{header}\": `{key}` may not include "
                              f"{first}/ (allowed: {' '.join(sorted(entries)) or 'nothing'})")

    for path in walk(root, "src"):
        rel = os.path.relpath(path, "src")
        key = src_rule(table, rel)
        if key is None:
            continue  # reported above as a folder without a rule
        own_dir = os.path.dirname(rel)
        judge(path, key, table.rules[key], [own_dir + "/"])

    def test_entries(d):
        """What tests/<d>/ may include: its layer's rules, <d> itself, its line, `tests`."""
        entries = set(table.rules.get(f"tests/{d}", ())) | set(table.rules.get("tests", ()))
        if d in layers:
            entries.add(d)
            for k, v in table.rules.items():
                if k == d or k.startswith(d + "/"):
                    entries |= v
        return entries

    tests_dir = os.path.join(root, "tests")
    test_dirs = sorted(d for d in os.listdir(tests_dir)
                       if os.path.isdir(os.path.join(tests_dir, d))) if os.path.isdir(tests_dir) else []
    for d in test_dirs:
        key = f"tests/{d}"
        if d not in layers and key not in table.rules:
            if any(True for _ in walk(root, key)):
                errors.append(f"tests/{d}/: C++ sources but no `tests/{d}: ...` rule")
            continue
        for path in walk(root, key):
            entries, rule = test_entries(d), key
            # A fuzz target named <layer>_..._fuzz.cc is held to tests/<layer>'s rules.
            prefix = os.path.basename(path).split("_", 1)[0]
            if d == "fuzz" and prefix in layers:
                entries, rule = entries | test_entries(prefix), f"tests/fuzz ({prefix})"
            judge(path, rule, entries, [])
    if os.path.isdir(os.path.join(root, "bench")):
        entries = table.rules.get("bench")
        if entries is None:
            errors.append("bench/: no `bench: ...` rule")
        else:
            for path in walk(root, "bench"):
                judge(path, "bench", entries, [])
    return errors


SELF_TEST_TABLE = """
<openssl> = openssl/
<asio> = boost/asio/ boost/asio.hpp
base: <openssl>
store: base
ws: base store <asio>
tests/fuzz:
bench: base
"""


def self_test(script):
    """Each planted bad include must be reported, and the clean tree must pass."""
    cases = {
        "clean": ({}, 0, None),
        "upward include": ({"src/store/bad.cc": '#include "ws/session.h"\n'}, 1,
                           'src/store/bad.cc:1: #include "ws/session.h"'),
        "pseudo-layer": ({"src/store/bad.cc": "#include <openssl/evp.h>\n"}, 1,
                         "<openssl> is not allowed in `store`"),
        "subfolder rule": ({"src/base/sub/bad.h": "#pragma once\n#include <boost/asio.hpp>\n"}, 1,
                           "src/base/sub/bad.h:2"),
        "test beyond its layer": ({"tests/store/x_test.cc": '#include "ws/session.h"\n'}, 1,
                                  "tests/store/x_test.cc:1"),
        "folder without a rule": ({"src/city/bus.cc": '#include "base/status.h"\n'}, 1,
                                  "src/city/: no rule"),
        "fuzz target": ({"tests/fuzz/x_fuzz.cc": '#include "store/db.h"\n'}, 1,
                        "tests/fuzz/x_fuzz.cc:1"),
        "fuzz target of a layer": ({"tests/fuzz/store_db_fuzz.cc": '#include "ws/session.h"\n'}, 1,
                                   "tests/fuzz/store_db_fuzz.cc:1"),
        "doc out of date": ({"design.md": "```layers\n" + SELF_TEST_TABLE.replace("store: base", "store: base ws") + "```\n"}, 1,
                            "the quoted rule `store` differs"),
    }
    clean = {
        "src/base/status.h": "#pragma once\n#include <string>\n",
        "src/base/crypto.cc": '#include "base/status.h"\n#include <openssl/evp.h>\n',
        "src/store/db.h": '#pragma once\n#include "base/status.h"\n',
        "src/ws/session.h": '#pragma once\n#include "store/db.h"\n#include <boost/asio.hpp>\n',
        "tests/ws/session_test.cc": '#include "ws/session.h"\n#include "base/status.h"\n#include "test_util.h"\n',
        "tests/fuzz/base_fuzz.cc": '#include "base/status.h"\n',
        "tests/fuzz/store_db_fuzz.cc": '#include "store/db.h"\n#include "base/status.h"\n',
        "bench/b.cc": '#include "base/status.h"\n',
    }
    failures = 0
    for name, (extra, want_rc, want_text) in cases.items():
        tmp = tempfile.mkdtemp(prefix="layers_selftest_")
        try:
            for rel, text in {**clean, **extra}.items():
                os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
                with open(os.path.join(tmp, rel), "w") as f:
                    f.write(text)
            with open(os.path.join(tmp, "layers.txt"), "w") as f:
                f.write(SELF_TEST_TABLE)
            doc = os.path.join(tmp, "design.md")
            if not os.path.exists(doc):
                with open(doc, "w") as f:
                    f.write("```layers\n" + SELF_TEST_TABLE + "```\n")
            r = subprocess.run([sys.executable, script, "--root", tmp, "--table",
                                os.path.join(tmp, "layers.txt"), "--doc", doc],
                               capture_output=True, text=True)
            ok = r.returncode == want_rc and (want_text is None or want_text in r.stdout)
            print(f"{'ok  ' if ok else 'FAIL'} {name}: exit {r.returncode}")
            if not ok:
                failures += 1
                print(r.stdout + r.stderr)
        finally:
            shutil.rmtree(tmp)
    print(f"self-test: {len(cases) - failures} of {len(cases)} cases behaved")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--root", default=here)
    ap.add_argument("--table")
    ap.add_argument("--doc", help="the doc quoting the rules (default: docs/design.md with the default table)")
    ap.add_argument("--graph", action="store_true")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test(os.path.abspath(__file__))
    table = parse_table(args.table or os.path.join(args.root, "docs", "layers.txt"))
    graph = {} if args.graph else None
    errors = check(args.root, table, graph)
    doc = args.doc
    if doc is None and args.table is None:
        doc = os.path.join(args.root, "docs", "design.md")
    if doc is not None:
        errors += compare_doc(table, doc)
    if graph is not None:
        for key in sorted(graph):
            print(f"{key}: {' '.join(sorted(graph[key]))}")
    for e in errors:
        print(e)
    if errors:
        print(f"{len(errors)} problem(s) with the layer table (docs/layers.txt); either move the "
              "code or, if the design changed, change the table and docs/design.md together")
        return 1
    if graph is None:
        print("layers ok: every include in src/, tests/ and bench/ follows docs/layers.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
