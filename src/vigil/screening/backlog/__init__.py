"""The backlog scan at platform scale: objects from a tree, an S3 bucket or an inventory manifest,
read under throttles, fingerprints kept in Parquet, and retroactive matching of stored fingerprints.
"""
