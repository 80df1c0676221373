"""Statistics and transparency reporting over reports, files, routing and outcomes.
Domain service; no HTTP.
"""
