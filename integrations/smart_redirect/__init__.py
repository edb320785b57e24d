"""Smart redirect (contract section 8): the PBX asks which extension should take an incoming
number, and gets the customer's responsible manager in RetailCRM mapped back to an extension.

`cache` keeps each (enterprise, CRM, phone)'s manager for a while, so a repeat answers from
memory; `lookup` asks the CRM under a hard timeout and never fails: a slow, dead or confused CRM
is "no extension". It uses the RetailCRM adapter's requests and aiohttp; it imports nothing of
`api`.
"""
