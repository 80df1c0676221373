"""Backlog scan jobs in the database (issue 17): ``jobs`` starts, finds, advances (one chunk's
matches and the checkpoint in one transaction) and ends jobs; ``matches`` reads and releases
the matches queued for review. The scanning itself lives in vigil.screening.backlog.
"""
