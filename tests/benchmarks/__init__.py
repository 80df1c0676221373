"""Smoke tests of the benchmarks: each runs at a toy size so it cannot rot."""
