"""What the library knows about the collector itself, kept as data: the components each
image carries, their upstream configuration keys, their renames, the AWS calls each makes,
the signals each processor serves, and what cannot run on Fargate.
"""
