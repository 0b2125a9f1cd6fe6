"""Leader comments, public appraisal and assessment (评诺; filled in by the 评诺 issue)."""
