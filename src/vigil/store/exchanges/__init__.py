"""Hash exchanges in the database: the configured accounts (credentials sealed under the
evidence master key), the lists each feeds, checkpoints and fetch state, the feedback queue.

- ``catalogue``: create, find, switch, replace credentials, remove;
- ``fetch_state``: the checkpoint (moved only with the entries it covers) and the last fetch;
- ``feedback_queue``: verdicts queued, claimed, settled with backoff;
- ``status``: what an operator sees; ``audit_trail``: the security audit records.
The protocols and the fetch itself live in vigil.exchanges.
"""
