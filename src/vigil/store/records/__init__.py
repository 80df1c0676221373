"""What screening leaves behind in the database: match records, review cases and the
webhook outbox that delivers match events.
"""
