"""Vigil: find child sexual abuse material, report it, and triage what is reported.
Layers import downwards only: fingerprint -> index -> lists -> store -> services -> interfaces.
"""
