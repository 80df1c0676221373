"""Clearinghouse domain: reporting companies, the CyberTipline-compatible report lifecycle,
known/seen/new matching, viral bundling and entity linking; HTTP lives in vigil.api.intake."""
