"""Tests for vigil.exchanges: the transport, each client against its fake server, and the
conformance checks every client passes."""
