"""Triage of clearinghouse reports: explainable scores, priorities, routing to agencies.
Domain service; no HTTP.
"""
