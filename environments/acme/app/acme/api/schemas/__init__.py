"""Pydantic request/response models: the API's public contract."""
