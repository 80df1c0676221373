"""Tests for reports to the clearinghouse."""
