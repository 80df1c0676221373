"""Background jobs: the one registry that declares them (registry.py) and what runs them in a
process (runner.py) - the service workers by default, or ``vigil worker`` apart from them.

Above the domain services, whose jobs it builds; below the interfaces that start it.
"""

# How `vigil serve --no-jobs` tells the uvicorn workers it starts to run no background job.
WEB_ONLY_ENV = "VIGIL_WEB_ONLY"
