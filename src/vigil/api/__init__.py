"""HTTP APIs (FastAPI): screening, intake, agency and administration routes.
Interface layer: translates HTTP to domain services through vigil.http; never imports the console.
"""
