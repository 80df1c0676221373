"""Media fingerprints: streamed MD5/SHA-1/SHA-256, reference-compatible PDQ with robust variants
(rotations, mirrors, border trims) and vPDQ-style video frame hashes; reads media, nothing else.
"""
