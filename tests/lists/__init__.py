"""Tests for vigil.lists.formats: hash-list readers, writers and detection."""
