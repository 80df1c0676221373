"""Hash lists in the database: the catalogue, entries and their status, imports and exports,
the change feed the match index follows, match counts and the flood guard's suspicions.
"""
