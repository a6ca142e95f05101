"""The report's Jinja2 templates (a package so that wheels ship them)."""
