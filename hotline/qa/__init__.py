"""QA sampling and review: reproducible samples, assignments, scoring forms, masking, review pages."""
