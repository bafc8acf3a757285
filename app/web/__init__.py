"""Flask plumbing shared by both faces: sessions, headers, language, database binding.

Nothing here knows about reports or reviewers; the faces (``app.intake``,
``app.review``) and the domain (``app.cases``) build on it.
"""
