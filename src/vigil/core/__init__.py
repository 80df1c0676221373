"""The bottom layer, importing nothing from Vigil: settings, private files and atomic writes,
the one hardened XML parser, a typed TTL cache, and the errors these raise."""
