"""Who may log in and what they may touch: users, argon2 passwords, API tokens, department scope."""
