"""What the organisation sees across its projects: one bill (each project's figures and their total,
the runway of the shared balance) and a search for a number in every project the person may see."""
