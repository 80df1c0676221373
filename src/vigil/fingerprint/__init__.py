"""Media fingerprints: streamed MD5/SHA-1/SHA-256, PDQ for photos (reference-compatible, fast
path),
robust query variants (dihedral, border-trimmed) and vPDQ-style video frame hashes. No I/O
beyond reading media.
"""
