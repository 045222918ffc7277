"""Projects, design documents, publicity, public comments, monitoring periods (issue #5: lifecycle workflow)."""
