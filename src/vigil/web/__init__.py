"""The review console: server-rendered pages (Jinja2 + HTMX) served by the API application.
Interface layer: uses the API's authentication and the review and store services below it.
"""
