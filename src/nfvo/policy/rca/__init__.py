"""Root-cause analysis: the entity graph of the inventory, templates over it evaluated with
do/undo, and the mapping of root causes and symptoms to SOL005 nsfm alarms."""
