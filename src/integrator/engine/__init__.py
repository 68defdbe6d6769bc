"""The engine: plans and runs projects, and keeps their execution history."""
