"""Clearinghouse intake: CyberTipline-compatible report handling, known/seen/new, bundling and
linking.
Domain service; the HTTP surface lives in api.
"""
