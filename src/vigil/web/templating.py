"""The console's Jinja2 environment: autoescaped templates shipped inside the package."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from vigil.clearinghouse.entity_words import entity_words
from vigil.triage.levels import level_label, level_name
from vigil.triage.scoring import reason_title
from vigil.web.main_nav import main_nav

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"

templates = Jinja2Templates(directory=WEB_DIR / "templates")  # .html: autoescape on

# Words every screen uses for the same thing, so the clearinghouse's and an agency's pages
# name a level, a triage reason and an entity alike (issue 18).
templates.env.globals.update(
    level_name=level_name,
    level_label=level_label,
    reason_title=reason_title,
    entity_words=entity_words,
    main_nav=main_nav,  # the navigation's links, written once
)
