"""The HTTP layer: one blueprint per resource, and the helpers they share.

Blueprints: ``meta`` (descriptions of the API), ``server`` (``/-/health``),
``environments`` (``/{env}``) and ``collections`` (collections and documents).
"""
