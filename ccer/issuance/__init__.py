"""Registration decisions, CCER serial blocks, accounts, holdings, transfers, retirements (issue #6)."""
