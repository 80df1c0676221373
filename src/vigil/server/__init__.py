"""The running service: one ASGI application that mounts the API and the console on the
shared HTTP layer, opens the database, index and vault, and starts the background jobs.
"""
