"""What tests share: paths, the clock, the stack fixtures, the API client, traffic and records.

Any test may import it; it imports product packages and never a test module.
"""
