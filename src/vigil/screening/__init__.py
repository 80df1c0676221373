"""Screening of uploads and backlogs: a match index kept current from the database's change feed,
matching of fingerprints against enabled lists (allow-lists suppress), and resumable scans.
"""
