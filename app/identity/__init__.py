"""Citizens, staff, operators and department systems: who they are and what they may do."""
