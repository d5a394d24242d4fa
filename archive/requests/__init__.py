"""Public-records requests (issue 6): cases, personal-data suggestions, masking, response clocks."""
