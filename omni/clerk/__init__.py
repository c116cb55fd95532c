"""The clerk dashboard: server-rendered pages for store associates, scoped to their store."""
