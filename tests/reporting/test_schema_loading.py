"""report.xsd is loaded once, by one thread, and a failed load is never kept (issue 14: a
first compile that failed left every later /submit answering 500 until a restart).

Each case runs in a fresh interpreter, where the schema has truly never been loaded."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.clearinghouse.documented import report_xml

PRELUDE = """
import json, logging, threading, time
from lxml import etree
from vigil.reporting.cybertipline import schema
logging.basicConfig(level=logging.ERROR, format="LOG %(message)s")
GOOD = GOOD_REPORT
real_compile = etree.XMLSchema
"""
OTHER_SCHEMA = (
    b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
    b'<xs:element name="somethingElse" type="xs:string"/></xs:schema>'
)


def run_fresh(script: str) -> tuple[dict[str, object], str]:
    """The JSON the script prints last, and its standard error (the log)."""
    code = PRELUDE.replace("GOOD_REPORT", repr(report_xml())) + textwrap.dedent(script)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_concurrent_first_use_compiles_once() -> None:
    result, _log = run_fresh("""
        compiles, got, errors = [], [], []
        def counted(*args, **kwargs):
            compiles.append(1)
            time.sleep(0.05)  # the window in which a second thread could compile too
            return real_compile(*args, **kwargs)
        etree.XMLSchema = counted
        start = threading.Barrier(16)
        def use():
            start.wait()
            try:
                got.append(id(schema.report_schema()))
            except Exception as exc:
                errors.append(repr(exc))
        threads = [threading.Thread(target=use) for _ in range(16)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        print(json.dumps({"compiles": len(compiles), "schemas": len(set(got)),
                          "answers": len(got), "errors": errors,
                          "valid": schema.validate(GOOD, root="report") == []}))
    """)
    assert result == {"compiles": 1, "schemas": 1, "answers": 16, "errors": [], "valid": True}


def test_a_compile_into_a_broken_schema_is_not_kept() -> None:
    """The wedge: a first compile that "succeeds" into a schema refusing every report."""
    result, log = run_fresh(f"""
        calls = []
        def once(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                return real_compile(etree.fromstring({OTHER_SCHEMA!r}))
            return real_compile(*args, **kwargs)
        etree.XMLSchema = once
        answers = []
        for _ in range(3):
            try:
                answers.append(len(schema.validate(GOOD, root="report")))
            except Exception as exc:
                answers.append(type(exc).__name__)
        print(json.dumps({{"answers": answers}}))
    """)
    assert result["answers"][1:] == [0, 0]  # the next use compiled again, and it is valid
    assert result["answers"][0] != 0
    assert "the next use tries again" in log


def test_a_failed_compile_is_logged_and_retried() -> None:
    result, log = run_fresh("""
        calls = []
        def once(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise etree.XMLSchemaParseError("simulated libxml2 failure")
            return real_compile(*args, **kwargs)
        etree.XMLSchema = once
        try:
            schema.report_schema()
            first = "loaded"
        except Exception as exc:
            first = type(exc).__name__
        print(json.dumps({"first": first, "then": schema.validate(GOOD, root="report") == [],
                          "kept": schema.report_schema() is schema.report_schema()}))
    """)
    assert result == {"first": "SchemaUnavailable", "then": True, "kept": True}
    assert "simulated libxml2 failure" in log and "the next use tries again" in log


def test_an_unreadable_schema_file_is_retried() -> None:
    result, log = run_fresh("""
        from importlib import resources
        real_files, calls = resources.files, []
        def unreadable(package):
            calls.append(1)
            if len(calls) == 1:
                raise OSError("simulated read failure")
            return real_files(package)
        schema.resources.files = unreadable
        try:
            schema.report_schema()
            first = "loaded"
        except Exception as exc:
            first = type(exc).__name__
        print(json.dumps({"first": first, "then": schema.validate(GOOD, root="report") == []}))
    """)
    assert result == {"first": "SchemaUnavailable", "then": True}
    assert "simulated read failure" in log
