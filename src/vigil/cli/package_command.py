"""`vigil package verify`: check a referral package's signature and manifest.

Exit codes: 0 the package is intact and signed by the key used; 1 problems were found (each
printed); 2 the package or the public key file could not be read.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import typer

from vigil.agency.package_verification import PUBLIC_KEY, verify_referral_package
from vigil.agency.signing import load_public_key, public_key_fingerprint
from vigil.cli.database_access import error_console, fail

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Referral packages: check one received from the clearinghouse.",
)

MAX_KEY_BYTES = 64 * 1024


@app.command("verify")
def verify_package_command(
    package: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="The referral package (.zip)."
    ),
    public_key: Path | None = typer.Option(
        None,
        "--public-key",
        metavar="PEM",
        exists=True,
        dir_okay=False,
        help="The clearinghouse's published public key. Without it the key inside the "
        "package is used, which proves the package is whole, not who made it.",
    ),
) -> None:
    """Check the signature over the manifest and every member against it."""
    console = error_console()
    try:
        data = package.read_bytes()
        pem = public_key.read_bytes()[:MAX_KEY_BYTES] if public_key else None
        key = load_public_key(pem) if pem is not None else None
    except OSError as exc:
        fail(console, f"cannot read {exc.filename}: {exc.strerror}")
    except ValueError as exc:
        fail(console, f"--public-key: {exc}")
    problems = verify_referral_package(data, key)
    for problem in problems:
        console.print(f"problem: {problem}", markup=False, style="bold red")
    if problems:
        raise typer.Exit(1)
    fingerprint = public_key_fingerprint(key) if key else _embedded_fingerprint(data)
    typer.echo(f"OK\t{package}\tsigned by key {fingerprint}")
    if key is None:
        console.print(
            "note: checked with the key inside the package; compare the fingerprint "
            "above with the one the clearinghouse publishes",
            markup=False,
        )


def _embedded_fingerprint(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return public_key_fingerprint(load_public_key(archive.read(PUBLIC_KEY)))
