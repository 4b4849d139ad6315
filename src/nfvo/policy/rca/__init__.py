"""Root-cause analysis: templates over the entity graph, their evaluation with do/undo, and
the mapping of root causes and symptoms to SOL005 nsfm alarms."""
