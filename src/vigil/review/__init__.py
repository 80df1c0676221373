"""Review: the queue of cases (one per account), protective renderings, classification, decisions
feeding back into the lists, the two-reviewer rule and reviewers' exposure care. No HTTP."""
