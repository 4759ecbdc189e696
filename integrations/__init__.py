"""Everything outside the process: each party behind its own package, each with a sandbox twin."""
