"""The site's one date and time format (config/formats/__init__.py); numbers keep
Django's formats for this language."""

from config.formats import *  # noqa: F403
