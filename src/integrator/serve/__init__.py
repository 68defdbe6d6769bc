"""``integrator serve``: one process that runs the workspace's schedules, sends the
notifications and answers on HTTP (the portal builds on it)."""
