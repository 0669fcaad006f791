"""What every .xlsx and .csv kpiwatch writes has in common: cells that cannot execute (`cells`) and the page
layout of the official tables (`layout`). A leaf package importing nothing of kpiwatch, so every layer that
writes a spreadsheet (importers, progress, reports, the audit export) may use it."""
