"""Reports to a clearinghouse (CyberTipline format), submission state machine, preservation and LE
requests.
Domain service; no HTTP server code.
"""
