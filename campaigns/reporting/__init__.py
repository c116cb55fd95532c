"""Reports for marketers, computed from touchpoints, messages and orders (orders reached through
``customers.Customer``'s relations, never by importing ``orders``), each in a module of its own:
``clv`` (customer lifetime value, historical and predicted), ``attribution`` (channel
attribution), ``retention`` (acquisition cohorts, retention, repeat purchases), ``conversion``
(per channel and across channels), ``roi`` (campaign ROI), ``satisfaction`` (NPS and CSAT from
the surveys); ``reports_admin`` lists them all in the admin and shows the last three."""
