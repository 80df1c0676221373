"""Review cases: one case per account, protective renderings, classification and decisions.
Domain service; no HTTP.
"""
