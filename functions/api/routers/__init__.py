"""One router per resource; each is included by functions/api/app.py."""
