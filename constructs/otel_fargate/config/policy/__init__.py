"""Rules applied to the final configuration of every role after every layer: validation
against the component model, the security guards, the drain rule that fits exports into the
stop timeout, and the IAM the configuration needs.
"""
