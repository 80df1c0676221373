"""Fake hash-exchange services for tests, written from the services' public descriptions and
served over real HTTP on loopback (``serving.serving``)."""
