"""The agency side: what an agency sees (only its own referrals), its acts (accept, decline,
requests to the reporter, outcomes) and referral packages (signed archive, VICS JSON)."""
