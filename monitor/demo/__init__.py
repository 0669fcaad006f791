"""The demo (`kpiwatch demo`): its steps on the seed documents, the sample data, and the portal it serves.

It sits at the top beside the CLI and calls the feature packages; none of them imports it. Start at
`monitor.demo.run`.
"""
