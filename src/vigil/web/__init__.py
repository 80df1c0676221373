"""The review console: server-rendered pages (Jinja2 + HTMX) mounted beside the API.
Interface layer: uses vigil.http's authentication and the domain services; never imports the API.
"""
