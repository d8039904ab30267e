"""xltool: templates, validation and consolidation of the statutory statistics of
China's government information disclosure annual reports (政府信息公开工作年度报告)."""

__version__ = "0.1.0"
