"""Email notifications: they subscribe to the domain signals."""
