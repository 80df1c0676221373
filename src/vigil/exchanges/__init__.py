"""Hash exchanges: the services platforms get their hash lists from (NCMEC, StopNCII,
ThreatExchange, Tech Against Terrorism), fetched into Vigil lists, with feedback sent back.
"""
