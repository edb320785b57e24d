"""Each tenant's integration settings: validated models, secrets encrypted at rest, the store in
`enterprises.integrations_config`, and the in-process cache that LISTEN/NOTIFY keeps fresh."""
