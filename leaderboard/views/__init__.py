"""One module per leaderboard view; each exposes `render(ctx)`."""
