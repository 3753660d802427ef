"""A corpus of broken presets, one file per failure, each with its expected outcome in its first
line: ``# expect: CODE PATTERN [ARGS...]``.

Exit 2 (bad input): PATTERN is a regular expression the one-line message on stderr must match;
nothing goes to stdout and there is no traceback. Exit 1 (findings): PATTERN is a diagnostic code
the JSON report must contain, then a regular expression one of that code's messages must match.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import parse_json

CORPUS = Path(__file__).parent / "broken"
CASES = sorted(CORPUS.glob("*.yaml"))


def expectation(path: Path) -> tuple[int, str, list[str]]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.match(r"# expect: (\d) (\S+(?: \S+)*?)((?: --\S+)*)$", first)
    assert match, f"{path.name}: first line must be '# expect: CODE PATTERN [--ARGS]'"
    return int(match.group(1)), match.group(2), match.group(3).split()


def test_the_corpus_covers_both_outcomes():
    codes = [expectation(p)[0] for p in CASES]
    assert codes.count(2) >= 20 and codes.count(1) >= 5


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_broken_preset(cli, path, monkeypatch):
    monkeypatch.chdir(CORPUS)  # python backbones are found next to the YAML either way
    code, pattern, args = expectation(path)
    if code == 2:
        result = cli("inspect", str(path), *args)
        assert result.exit_code == 2, result.stdout + result.stderr
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert lines and all(line.startswith("error: ") for line in lines), result.stderr  # one line a problem
        assert any(re.search(pattern, line) for line in lines), lines
    else:
        result = cli("inspect", str(path), "--json", *args)
        assert result.exit_code == 1, result.stdout + result.stderr
        code_name, _, message = pattern.partition(" ")
        found = [d["message"] for d in parse_json(result.stdout)["diagnostics"] if d["code"] == code_name]
        assert found, result.stdout
        assert any(re.search(message, m) for m in found), found
    assert "Traceback" not in result.stderr
