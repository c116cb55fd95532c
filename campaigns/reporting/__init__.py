"""Reports for marketers, computed from touchpoints, messages and orders (orders reached through
``customers.Customer``'s relations, never by importing ``orders``), each in a module of its own:
``clv`` (customer lifetime value, historical and predicted), ``attribution`` (channel
attribution), ``satisfaction`` (NPS and CSAT from the surveys)."""
