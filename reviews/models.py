"""Review queue, decisions and rectification orders (审诺; filled in by the 审诺 issue)."""
