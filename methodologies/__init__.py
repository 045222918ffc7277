"""The six official MEE methodologies as plug-ins of the entry-point group `ccer.methodologies`."""
