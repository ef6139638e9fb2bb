"""Privacy: processing instructions and the purpose gate, processing log, sub-processors, platform users' rights, consent, contact, retention, notices, cookies and metrics."""
