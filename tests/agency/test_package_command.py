"""`vigil package verify` on an intact, a tampered and an unreadable package."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from tests.agency.test_package_verify import KEY, signed_package
from vigil.agency.signing import public_key_fingerprint, public_key_pem
from vigil.cli.package_command import app as package_app

KEY_HOLDER = Ed25519PrivateKey.generate()


def _app() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(package_app, name="package")
    return root


def test_intact_package_passes_with_and_without_the_published_key(tmp_path: Path) -> None:
    package = tmp_path / "package.zip"
    package.write_bytes(signed_package({"report.xml": b"<report/>"}))
    public = tmp_path / "clearinghouse.pub"
    public.write_bytes(public_key_pem(KEY))
    runner = CliRunner()
    result = runner.invoke(_app(), ["package", "verify", str(package), "--public-key", str(public)])
    assert result.exit_code == 0, result.output
    assert public_key_fingerprint(KEY) in result.output
    result = runner.invoke(_app(), ["package", "verify", str(package)])
    assert result.exit_code == 0
    assert "compare the fingerprint" in result.output


def test_wrong_key_and_tampering_exit_1(tmp_path: Path) -> None:
    package = tmp_path / "package.zip"
    data = signed_package({"report.xml": b"<report/>"})
    package.write_bytes(data)
    other = tmp_path / "other.pub"
    other.write_bytes(public_key_pem(KEY_HOLDER))
    result = CliRunner().invoke(
        _app(), ["package", "verify", str(package), "--public-key", str(other)]
    )
    assert result.exit_code == 1
    assert "bad signature" in result.output
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["report.xml"] = b"<report>changed</report>"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    package.write_bytes(buffer.getvalue())
    result = CliRunner().invoke(_app(), ["package", "verify", str(package)])
    assert result.exit_code == 1
    assert "altered member 'report.xml'" in result.output


def test_not_a_package_or_a_bad_key_file(tmp_path: Path) -> None:
    package = tmp_path / "package.zip"
    package.write_bytes(b"hello")
    result = CliRunner().invoke(_app(), ["package", "verify", str(package)])
    assert result.exit_code == 1
    assert "not a ZIP archive" in result.output
    bad_key = tmp_path / "bad.pub"
    bad_key.write_bytes(b"nonsense")
    result = CliRunner().invoke(
        _app(), ["package", "verify", str(package), "--public-key", str(bad_key)]
    )
    assert result.exit_code == 2
    assert "not a PEM public key" in result.output
