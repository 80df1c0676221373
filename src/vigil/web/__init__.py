"""Server-rendered web console (Jinja2 + HTMX) for reviewers, analysts and agencies.
Interface layer.
"""
