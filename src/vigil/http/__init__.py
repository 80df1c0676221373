"""What the API and the console share over HTTP: authentication, the service state, error
answers, middleware (body limit, security headers, cross-site refusal) and rate limits.
"""
