"""Public account pages: sign up, e-mail verification, password reset, staff invitations."""
