"""Descriptions of the API itself: the root Hyper-Schema, OpenAPI and docs."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("meta", __name__)
