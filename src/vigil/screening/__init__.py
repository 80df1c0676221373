"""Screening of uploads and backlogs: hash, match against enabled lists, record match records and
verdicts.
Domain service; no HTTP.
"""
