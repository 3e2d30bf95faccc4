"""The moderation service's domain logic (stateless; the caller commits)."""
