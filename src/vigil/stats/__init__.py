"""Statistics and transparency: a period's figures over reports, files, triage, routing and
outcomes, their charts and the annual report, and the operators' live counts. No HTTP.
"""
