"""Rendering: presets as fragments merged in order, the user's layers on top, a replacement
adopted, every layer validated, and the YAML and IAM needs of the result.
"""
