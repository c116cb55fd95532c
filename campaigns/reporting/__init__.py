"""What omnichannel earns, computed from orders, touchpoints and messages reached through
``customers.Customer``'s relations: ``clv`` (customer lifetime value, historical and
predicted)."""
