"""Domain logic of the graph service, split by responsibility. Stateless functions that
take (session, actor, ...) explicitly and flush; the request or job wrapper commits."""
