"""Async client for the IMA Open API: catalog, credit rules, upload, create and poll."""
