"""Hash lists (banks) of known content: entry model, import/export formats and remote sources.
Knows nothing of HTTP or the review workflow.
"""
