"""Scoring weights of a project: its level weights and its indicators' 分值/权重, read and changed by every channel."""
