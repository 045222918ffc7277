"""VVB engagements, findings (CAR/CL/FAR), validation and verification reports, commitments (issue #5)."""
