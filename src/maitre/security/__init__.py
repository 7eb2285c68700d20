"""Who may do what: staff and guest tokens, staff accounts, gateways' broker credentials."""
