"""Certificates of attendance: the delegate's download from their private page once checked in and the event has
started, and the organizers' mailing of certificates to every checked-in delegate."""

from flask import Blueprint

bp = Blueprint("certificates", __name__)
