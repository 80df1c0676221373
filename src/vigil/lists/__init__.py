"""Hash lists (banks) without a database: list records, import/export formats, remote sources
and the flood-guard rule. Knows nothing of HTTP, storage or the review workflow.
"""
