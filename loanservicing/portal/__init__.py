"""The portal: the shared record in a browser for lenders, servicers, borrowers and regulators."""
