"""The admin panel at /admin: server-rendered pages over the gateway's GraphQL API, nothing else."""
