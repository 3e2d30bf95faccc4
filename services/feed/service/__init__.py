"""Domain logic of the feed service: stateless functions taking (session, actor, ...) that flush;
the request or job wrapper commits. Facts owned by the graph service come from its client."""
