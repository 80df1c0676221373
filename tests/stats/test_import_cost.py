"""matplotlib is loaded only when a chart or a report is made: the service and the command
line start without it (importing it takes about a second)."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return set(result.stdout.split())


def test_the_service_and_the_command_line_do_not_import_matplotlib() -> None:
    loaded = _modules_after("import vigil.server.app, vigil.cli.app, vigil.web.pages.stats")
    assert "vigil.stats.annual_report" in loaded  # the report code is there, unloaded
    assert not {name for name in loaded if name.split(".")[0] == "matplotlib"}
