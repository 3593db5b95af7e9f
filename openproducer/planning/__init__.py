"""Planners: the structure-aware offline planner and the AI planners, behind one `build_plan`."""
