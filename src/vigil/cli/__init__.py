"""The `vigil` command line (Typer + Rich).
Interface layer: parses arguments, calls services, prints results.
"""
