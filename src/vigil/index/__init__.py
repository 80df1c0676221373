"""Match structures over fingerprints: exact Hamming range search for PDQ and exact digest lookup.
Pure data structures; persistence is snapshot files, never the database.
"""
