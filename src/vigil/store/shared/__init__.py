"""The few rules several domain services share and the database backs: the classification
vocabulary, links between reports, and rescoring.
"""
