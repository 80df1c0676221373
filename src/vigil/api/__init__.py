"""HTTP APIs (FastAPI): screening, intake and agency endpoints.
Interface layer: translates HTTP to domain services, never the other way.
"""
