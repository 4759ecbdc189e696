"""Console accounts: department staff (admin, clerk) and platform operators (operator, auditor)."""
