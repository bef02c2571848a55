"""docs/errors.md stays true: every message in its tables is one that a test
expects verbatim.

The tests' expectations are the golden diagnostics (tests/diagnostics/
*.expected), the FileCheck lines of tests/cli/*.test and the string literals
of tests/unit/*.cpp (adjacent literals joined). A documented message
matches an expectation when its pieces between `…` appear in it in order;
FileCheck's {{regex}} counts as `…`.

    check_doc.py REPO
"""
import glob
import os
import re
import sys


def expectations(root):
    found = []
    for path in glob.glob(os.path.join(root, "tests", "diagnostics", "*.expected")):
        with open(path, encoding="utf-8", errors="replace") as f:
            found += [line.rstrip("\n") for line in f]
    for path in glob.glob(os.path.join(root, "tests", "cli", "*.test")):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                match = re.match(r"^[A-Z][A-Z0-9_]*(?:-NEXT|-NOT|-SAME)?: (.*)$", line)
                if match:
                    found.append(re.sub(r"\{\{.*?\}\}", "…", match.group(1)))
    literal = r'"((?:[^"\\\n]|\\.)*)"'
    for path in glob.glob(os.path.join(root, "tests", "unit", "*.cpp")):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        # Runs of adjacent literals, as the compiler joins them.
        for run in re.finditer(r"(?:%s\s*)+" % literal, text):
            pieces = re.findall(literal, run.group(0))
            joined = "".join(pieces)
            found.append(joined.replace('\\"', '"').replace("\\\\", "\\"))
    return found


def documented(root):
    rows = []
    with open(os.path.join(root, "docs", "errors.md"), encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 4 and cells[2].startswith("`"):
                rows.append((number, cells[2].strip("`")))
    return rows


def matches(message, expectation):
    position = 0
    for piece in message.split("…"):
        index = expectation.find(piece, position)
        if index < 0:
            return False
        position = index + len(piece)
    return True


def main():
    root = sys.argv[1]
    found = expectations(root)
    rows = documented(root)
    untested = [(n, m) for n, m in rows if not any(matches(m, e) for e in found)]
    for number, message in untested:
        print("docs/errors.md:%d: no test expects: %s" % (number, message))
    print("%d documented messages, %d untested" % (len(rows), len(untested)))
    sys.exit(1 if untested or len(rows) < 40 else 0)


if __name__ == "__main__":
    main()
