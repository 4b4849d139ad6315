"""Root-cause analysis: the entity graph of the inventory and the alarms reasoned over it."""
